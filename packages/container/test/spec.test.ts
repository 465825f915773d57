/**
 * The run spec: defaults, merging, and every validation error path (each names its field and,
 * for unknown names, lists what is registered).
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { SpecError, createContainer, defaultSpec, mergeSpec, validateSpec, type BoltzmannContainer, type RunSpec } from '@boltzmann/container';

describe('container: run spec', function () {
  let container: BoltzmannContainer;

  before(async function () {
    container = await createContainer({ optionalBackends: false });
  });

  /** The issues validateSpec reports for `input` (fails the test when it accepts it). */
  function issuesOf(input: unknown): { path: string; message: string }[] {
    try {
      validateSpec(input, container.catalog);
    } catch (error) {
      expect(error).to.be.instanceOf(SpecError);
      return [...(error as SpecError).issues];
    }
    expect.fail(`expected ${JSON.stringify(input)} to be rejected`);
  }

  function expectIssue(input: unknown, path: string, message: RegExp): void {
    const issues = issuesOf(input);
    const match = issues.find((i) => i.path === path);
    expect(match, `no issue at ${path}; got ${JSON.stringify(issues)}`).to.not.equal(undefined);
    expect(match!.message).to.match(message);
  }

  describe('built-in components', function () {
    it('binds core\'s registries, the backends, metrics and data sources', function () {
      const c = container.catalog;
      expect(c.names('unitType')).to.include('bernoulli');
      expect(c.names('connection')).to.include('dense');
      expect(c.names('modelKind')).to.include.members(['graph', 'rbm']);
      expect(c.names('estimator')).to.include.members(['cd', 'pcd']);
      expect(c.names('optimizer')).to.include('sgd');
      expect(c.names('regularizer')).to.include('l2');
      expect(c.names('schedule')).to.include.members(['constant', 'linear']);
      expect(c.names('metric')).to.have.members(['freeEnergy', 'meanHiddenActivation', 'pseudoLogLikelihood', 'reconstructionError']);
      expect(c.names('backend')).to.include.members(['auto', 'cpu']);
      expect(c.names('dataSource')).to.include.members(['bars-and-stripes', 'csv', 'fashion-mnist', 'idx', 'mnist']);
      expect(c.names('sampler')).to.include.members(['gibbs', 'glauber', 'parallel-dynamics']);
    });

    it('an unknown name lists what is registered', function () {
      expect(() => container.catalog.factory('optimizer', 'rmsprop')).to.throw(/unknown optimizer "rmsprop"; registered: .*adam.*sgd/);
    });
  });

  describe('defaults and merging', function () {
    it('a spec that picks Adam and names no learning rate gets Adam\'s 0.001 (SGD\'s schedule stays the default otherwise)', function () {
      expect(validateSpec({ training: { optimizer: { type: 'adam' } } }, container.catalog).training.learningRate).to.equal(0.001);
      expect(validateSpec({ training: { optimizer: { type: 'adam' }, learningRate: 0.01 } }, container.catalog).training.learningRate).to.equal(0.01);
      expect(validateSpec({}, container.catalog).training.learningRate).to.deep.equal(defaultSpec().training.learningRate);
    });

    it('validating nothing gives defaultSpec(), a fresh object each time', function () {
      expect(validateSpec(undefined, container.catalog)).to.deep.equal(defaultSpec());
      const a = defaultSpec();
      a.training.epochs = 99;
      expect(defaultSpec().training.epochs).to.not.equal(99);
    });

    it('the default spec is a 784-visible Bernoulli RBM on the bundled MNIST digits, on the CPU', function () {
      const s = defaultSpec();
      expect(s.model.kind).to.equal('rbm');
      expect(s.model.layers.map((l) => [l.type, l.size])).to.deep.equal([['bernoulli', 784], ['bernoulli', 256]]);
      expect(s.data.source).to.deep.equal({ type: 'mnist' });
      expect(s.backend).to.deep.equal({ name: 'cpu', precision: 'float32' });
    });

    it('backend.precision takes bfloat16-mixed and best-available', function () {
      for (const precision of ['bfloat16-mixed', 'best-available']) {
        expect(validateSpec({ backend: { precision } }, container.catalog).backend.precision).to.equal(precision);
      }
    });

    it('a partial spec overrides field by field; arrays replace; a new "type" replaces the object', function () {
      const merged = mergeSpec(defaultSpec(), {
        training: { epochs: 3, estimator: { type: 'cd' }, regularizers: [{ type: 'l2', coefficient: 0.1 }] },
        backend: 'auto',
      }) as RunSpec;
      expect(merged.training.epochs).to.equal(3);
      expect(merged.training.batchSize).to.equal(defaultSpec().training.batchSize);
      expect(merged.training.estimator).to.deep.equal({ type: 'cd' });
      expect(merged.training.regularizers).to.deep.equal([{ type: 'l2', coefficient: 0.1 }]);
      expect(merged.backend).to.deep.equal({ name: 'auto', precision: 'float32' });
      const same = mergeSpec(defaultSpec(), { training: { estimator: { k: 3 } } }) as RunSpec;
      expect(same.training.estimator).to.deep.equal({ type: 'pcd', k: 3 });
    });

    it('samples.png draws with block Gibbs by default; another sampler replaces it whole, with its options', function () {
      expect(defaultSpec().output.samples.sampler).to.deep.equal({ type: 'gibbs' });
      const spec = validateSpec({ output: { samples: { sampler: { type: 'glauber', temperature: 0.5 } } } }, container.catalog);
      expect(spec.output.samples).to.deep.equal({ ...defaultSpec().output.samples, sampler: { type: 'glauber', temperature: 0.5 } });
    });

    it('the default spec printed in SPEC.md is defaultSpec()', function () {
      const doc = readFileSync(new URL('../SPEC.md', import.meta.url), 'utf8');
      const block = /## The default spec\n\n```json\n([\s\S]*?)\n```/.exec(doc);
      expect(block, 'SPEC.md has no default spec block').to.not.equal(null);
      expect(JSON.parse(block![1]!)).to.deep.equal(defaultSpec());
    });

    it('SPEC.md documents every field of the spec', function () {
      const doc = readFileSync(new URL('../SPEC.md', import.meta.url), 'utf8');
      const walk = (o: object, prefix: string): string[] =>
        Object.entries(o).flatMap(([k, v]) => {
          const path = prefix ? `${prefix}.${k}` : k;
          return v !== null && typeof v === 'object' && !Array.isArray(v) && !['source', 'estimator', 'optimizer', 'momentum', 'learningRate'].includes(k) ? [path, ...walk(v, path)] : [path];
        });
      for (const path of walk(defaultSpec(), '')) expect(doc, `SPEC.md lacks ${path}`).to.include(`\`${path}\``);
      for (const path of ['training.earlyStopping.metric', 'training.earlyStopping.patience', 'training.earlyStopping.restoreBest']) expect(doc).to.include(`\`${path}\``);
    });
  });

  describe('spec validation errors name the field', function () {
    const cases: [string, unknown, string, RegExp][] = [
      ['not an object', [1, 2], '(root)', /must be a JSON object, got an array/],
      ['unknown top-level field, with a suggestion', { trainig: {} }, 'trainig', /unknown field \(did you mean "training"\?\)/],
      ['plugins not an array', { plugins: 'x' }, 'plugins', /array of package names or paths/],
      ['unknown model kind', { model: { kind: 'dbn' } }, 'model.kind', /unknown model kind "dbn".*registered: .*graph, rbm/],
      ['no layers', { model: { layers: [] } }, 'model.layers', /non-empty array/],
      ['unknown unit type, with a suggestion and the list', { model: { layers: [{ type: 'bernouli', name: 'visible', size: 3 }, { type: 'bernoulli', name: 'hidden', size: 2 }] } }, 'model.layers[0].type', /unknown unit type "bernouli" \(did you mean "bernoulli"\?\); registered: .*bernoulli/],
      ['two layers with one name', { model: { layers: [{ type: 'bernoulli', name: 'visible', size: 3 }, { type: 'bernoulli', name: 'visible', size: 2 }] } }, 'model.layers[1].name', /two layers are named "visible"/],
      ['a fractional size', { model: { layers: [{ type: 'bernoulli', name: 'visible', size: 2.5 }, { type: 'bernoulli', name: 'hidden', size: 2 }] } }, 'model.layers[0].size', /integer >= 1, got 2.5/],
      ['a connection to a missing layer', { model: { connections: [{ type: 'dense', name: 'c', from: 'visible', to: 'hiden' }] } }, 'model.connections[0].to', /no layer is named "hiden"; layers: visible, hidden/],
      ['a connection of a layer to itself', { model: { connections: [{ type: 'dense', name: 'c', from: 'visible', to: 'visible' }] } }, 'model.connections[0]', /joins layer "visible" to itself/],
      ['a connection named like a layer', { model: { connections: [{ type: 'dense', name: 'hidden', from: 'visible', to: 'hidden' }] } }, 'model.connections[0].name', /already the name of a layer/],
      ['an unknown connection type', { model: { connections: [{ type: 'sparse', name: 'c', from: 'visible', to: 'hidden' }] } }, 'model.connections[0].type', /unknown connection type "sparse"; registered: dense/],
      ['a negative weight std', { model: { weightStd: -1 } }, 'model.weightStd', /\[0, Infinity\], got -1/],
      ['unknown training field', { training: { epoch: 3 } }, 'training.epoch', /unknown field \(did you mean "epochs"\?\)/],
      ['negative epochs', { training: { epochs: -1 } }, 'training.epochs', /integer >= 0, got -1/],
      ['zero batch size', { training: { batchSize: 0 } }, 'training.batchSize', /integer >= 1, got 0/],
      ['a negative learning rate', { training: { learningRate: -0.1 } }, 'training.learningRate', /\[0, Infinity\], got -0.1/],
      ['momentum above 1', { training: { momentum: 1.5 } }, 'training.momentum', /\[0, 1\], got 1.5/],
      ['a schedule of an unknown type', { training: { learningRate: { type: 'cosine' } } }, 'training.learningRate.type', /unknown schedule "cosine"; registered: constant, exponential, linear, list, step-decay/],
      ['a schedule that is a string', { training: { momentum: 'fast' } }, 'training.momentum', /a number or a schedule object/],
      ['an unknown estimator', { training: { estimator: { type: 'fast-pcd' } } }, 'training.estimator.type', /unknown estimator "fast-pcd"; registered: .*cd.*pcd/],
      ['an optimizer whose type is not a string', { training: { optimizer: { type: 5 } } }, 'training.optimizer.type', /non-empty string, got 5/],
      ['an estimator that is not an object', { training: { estimator: 'cd' } }, 'training.estimator', /must be an object, got "cd"/],
      ['regularizers not an array', { training: { regularizers: { type: 'l2' } } }, 'training.regularizers', /must be an array/],
      ['an unknown regularizer', { training: { regularizers: [{ type: 'elastic-net' }] } }, 'training.regularizers[0].type', /unknown regularizer "elastic-net"(.*); registered: .*l1.*l2/],
      ['an unknown metric', { training: { metrics: ['logLikelihood'] } }, 'training.metrics[0]', /unknown metric "logLikelihood"; registered: freeEnergy, meanHiddenActivation, pseudoLogLikelihood, reconstructionError/],
      ['an unknown metric given as an object', { training: { metrics: [{ name: 'x' }] } }, 'training.metrics[0].name', /unknown metric "x"/],
      ['zero monitor rows', { training: { monitorRows: 0 } }, 'training.monitorRows', /integer >= 1/],
      ['a non-boolean shuffle', { training: { shuffle: 'yes' } }, 'training.shuffle', /true or false, got "yes"/],
      ['a negative checkpoint interval', { training: { checkpointEvery: -2 } }, 'training.checkpointEvery', /integer >= 0/],
      ['early stopping on an unknown metric', { training: { earlyStopping: { metric: 'accuracy' } } }, 'training.earlyStopping.metric', /one of "pseudoLogLikelihood", "freeEnergyGap"/],
      ['early stopping on held-out data with none held out', { training: { earlyStopping: { metric: 'freeEnergyGap' } }, data: { validationSplit: 0 } }, 'training.earlyStopping.metric', /watches held-out data, but data.validationSplit is 0/],
      ['early stopping with zero patience', { training: { earlyStopping: { patience: 0 } } }, 'training.earlyStopping.patience', /integer >= 1/],
      ['early stopping with an unknown field', { training: { earlyStopping: { wait: 3 } } }, 'training.earlyStopping.wait', /unknown field/],
      ['an unknown data source', { data: { source: { type: 'cifar' } } }, 'data.source.type', /unknown data source "cifar"; registered: bars-and-stripes, csv, fashion-mnist, idx, mnist/],
      ['a validation split of 1', { data: { validationSplit: 1 } }, 'data.validationSplit', /\[0, 1\), got 1/],
      ['a zero limit', { data: { limit: 0 } }, 'data.limit', /integer >= 1, got 0/],
      ['an unknown backend', { backend: 'cuda' }, 'backend.name', /unknown backend "cuda"; registered: auto, cpu/],
      ['a bad precision', { backend: { precision: 'float16' } }, 'backend.precision', /"float32", "float64", "bfloat16-mixed", "best-available", got "float16"/],
      ['a seed above 2^32 - 1', { seed: 2 ** 32 }, 'seed', /integer in \[0, 4294967295\], got 4294967296/],
      ['an empty output directory', { output: { dir: '' } }, 'output.dir', /non-empty string/],
      ['zero samples', { output: { samples: { count: 0 } } }, 'output.samples.count', /integer in \[1, 10000\], got 0/],
      ['a bad sample start', { output: { samples: { init: 'noise' } } }, 'output.samples.init', /"data", "random", got "noise"/],
      ['an unknown sampler, with a suggestion and the list', { output: { samples: { sampler: { type: 'glaber' } } } }, 'output.samples.sampler.type', /unknown sampler "glaber" \(did you mean "glauber"\?\); registered: gibbs, glauber, parallel-dynamics/],
      ['a sampler given as a string', { output: { samples: { sampler: 'glauber' } } }, 'output.samples.sampler', /must be an object, got "glauber"/],
      ['negative filters', { output: { filters: -1 } }, 'output.filters', /integer in \[0, 10000\]/],
      ['events to an unknown broker', { output: { events: { type: 'kafka', url: 'kafka://h' } } }, 'output.events.type', /must be "redis-stream" or "nats-jetstream", got "kafka"/],
      ['events with an unknown field', { output: { events: { type: 'redis-stream', url: 'redis://127.0.0.1:6379', stream: 'a', subject: 'b' } } }, 'output.events.subject', /unknown field; fields of a redis-stream sink: type, url, stream, maxLen, include, buffer, run/],
      ['events to a URL of another broker', { output: { events: { type: 'nats-jetstream', url: 'redis://h:1', subject: 'a' } } }, 'output.events.url', /must be a nats:\/\/ or tls:\/\/ URL, got "redis:\/\/h:1"/],
      ['events with an unknown event type', { output: { events: { type: 'redis-stream', url: 'redis://h:1', stream: 'a', include: ['epoch'] } } }, 'output.events.include', /non-empty array of event types \("started", "batch-end"/],
    ];
    for (const [what, input, path, message] of cases) {
      it(what, function () {
        expectIssue(input, path, message);
      });
    }

    it('early stopping without a metric on Gaussian visible units needs no pseudo-likelihood (the run falls back to the free-energy gap or the reconstruction error)', function () {
      const spec = validateSpec({ model: { layers: [{ type: 'gaussian', name: 'visible', size: 3 }, { type: 'bernoulli', name: 'hidden', size: 2 }] }, training: { metrics: ['reconstructionError'], earlyStopping: {} }, data: { validationSplit: 0 } }, container.catalog);
      expect(spec.training.earlyStopping).to.deep.equal({});
    });

    it('reports every problem at once, in one message naming the source', function () {
      try {
        validateSpec({ training: { batchSize: 0, optimizer: { type: 'rmsprop' } }, seed: -1 }, container.catalog, { source: 'my.json' });
        expect.fail('accepted');
      } catch (error) {
        expect(error).to.be.instanceOf(SpecError);
        const e = error as SpecError;
        expect(e.issues.map((i) => i.path)).to.have.members(['training.batchSize', 'training.optimizer.type', 'seed']);
        expect(e.message).to.match(/^invalid my\.json:\n {2}training\.batchSize: .*\n {2}training\.optimizer\.type: .*\n {2}seed: /);
      }
    });
  });
});
