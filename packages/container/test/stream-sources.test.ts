import { expect } from 'chai';
import { SpecError, createContainer, resolveRun, validateSpec, type BoltzmannContainer } from '@boltzmann/container';
import { RedisStreamSource } from '@boltzmann/pipeline';

describe('stream data sources in the container', function () {
  let container: BoltzmannContainer;
  before(async function () {
    container = await createContainer({ optionalBackends: false });
  });

  const spec = () =>
    validateSpec(
      {
        model: { layers: [{ type: 'bernoulli', name: 'visible', size: 9 }, { type: 'bernoulli', name: 'hidden', size: 4 }] },
        data: { source: { type: 'redis-stream', url: 'redis://127.0.0.1:1', stream: 'rows', group: 'g', imageShape: [3, 3] }, validationSplit: 0 },
        training: { epochs: 2, stepsPerEpoch: 3, checkpointEvery: 1 },
      },
      container.catalog,
    );

  it('resolveRun({ streams: true }) gives the unopened source (nothing connects) and no resident rows', async function () {
    const run = await resolveRun(container, spec(), { streams: true });
    try {
      expect(run.data.stream).to.be.instanceOf(RedisStreamSource);
      expect(run.data.stream!.columns).to.equal(9);
      expect(run.data.train).to.equal(undefined);
      expect(run.data.imageShape).to.deep.equal([3, 3]);
      expect(run.data.description).to.equal('redis stream "rows" (group "g") at redis://127.0.0.1:1');
    } finally {
      run.dispose();
    }
  });

  it('a caller that takes resident rows only gets a SpecError at data.source', async function () {
    let error: unknown;
    await resolveRun(container, spec()).then((run) => run.dispose(), (e: unknown) => (error = e));
    expect(error).to.be.instanceOf(SpecError);
    expect((error as SpecError).message).to.match(/data\.source: "redis-stream" is a stream source .* \{ streams: true \}/);
  });
});
