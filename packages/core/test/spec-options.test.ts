import { expect } from 'chai';
import { InvalidValueError, ReferenceBackend } from '@boltzmann/tensor';
import {
  BernoulliLayer,
  ContrastiveDivergence,
  L1WeightDecay,
  L2WeightDecay,
  RBM,
  SGD,
  SparsityTarget,
  Trainer,
  buildModel,
  defaultComponents,
  toSchedule,
  type ParameterRole,
} from '@boltzmann/core';

/** The built-in component set (read-only). */
const builtins = defaultComponents();

const be = new ReferenceBackend();

/** The message of the InvalidValueError `f` throws (fails the test when it throws nothing or something else). */
function message(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(InvalidValueError);
    return (error as Error).message;
  }
  throw new Error('expected an InvalidValueError');
}

describe('JSON specs refuse unknown option keys and wrongly typed values, naming them', function () {
  it('layers: "bernoulli" refuses extra keys like every other unit type', function () {
    expect(message(() => RBM.create(be, { visible: { type: 'bernoulli', size: 3, groupSize: 3 }, hidden: 2 }))).to.equal(
      'layer "visible" (bernoulli units) has an unknown option "groupSize"; it takes no options',
    );
    expect(message(() => new BernoulliLayer(be, { name: 'h', size: 2, sizes: 3 } as { name: string; size: number }))).to.equal(
      'layer "h" (bernoulli units) has an unknown option "sizes"; it takes no options (did you mean "size"?)',
    );
    // The existing types keep their message, now with a suggestion.
    expect(message(() => RBM.create(be, { visible: { type: 'gaussian', size: 2, varaince: 'learned' }, hidden: 2 }))).to.equal(
      'layer "visible" (gaussian units) has an unknown option "varaince"; its options are "variance" (did you mean "variance"?)',
    );
    expect(new BernoulliLayer(be, { name: 'ok', size: 2 }).spec()).to.deep.equal({ type: 'bernoulli', name: 'ok', size: 2 });
  });

  it('regularizers: "l2" refuses unknown keys like the others; roles must be known parameter roles', function () {
    expect(message(() => builtins.regularizers.get('l2')({ type: 'l2', coeficient: 0.1 }))).to.equal(
      'regularizer "l2" has an unknown option "coeficient"; its options are "coefficient", "roles" (did you mean "coefficient"?)',
    );
    expect(message(() => builtins.regularizers.get('l1')({ type: 'l1', coefficient: 0.1, role: ['bias'] }))).to.equal(
      'regularizer "l1" has an unknown option "role"; its options are "coefficient", "roles" (did you mean "roles"?)',
    );
    expect(message(() => builtins.regularizers.get('max-norm')({ type: 'max-norm', max: 1 }))).to.match(/^regularizer "max-norm" has an unknown option "max"; its options are "maxNorm"/);
    expect(message(() => builtins.regularizers.get('dropout')({ type: 'dropout', visable: 0.1 }))).to.match(/unknown option "visable"; .* \(did you mean "visible"\?\)$/);
    expect(message(() => builtins.regularizers.get('sparsity')({ type: 'sparsity', tagret: 0.1 }))).to.match(/unknown option "tagret"; .* \(did you mean "target"\?\)$/);
    expect(message(() => builtins.regularizers.get('l2')({ type: 'l2', coefficient: 0.1, roles: 'weights' }))).to.equal(
      'L2 weight decay "roles" must be an array of parameter roles ("weights", "bias", "scale"), got "weights"',
    );
    expect(message(() => new L1WeightDecay(0.1, ['weight' as ParameterRole]))).to.equal(
      'L1 weight decay "roles" must be an array of parameter roles ("weights", "bias", "scale"), got ["weight"]',
    );
    expect(message(() => builtins.regularizers.get('sparsity')({ type: 'sparsity', weights: 'no' }))).to.equal('sparsity "weights" must be true or false, got "no"');
    expect(message(() => builtins.regularizers.get('sparsity')({ type: 'sparsity', layer: 3 }))).to.equal('sparsity "layer" must be a layer name, got 3');
    // The constructor checks them too (not only the registry): options typed loosely from JSON.
    expect(message(() => new SparsityTarget({ weights: 'yes' as unknown as boolean }))).to.equal('sparsity "weights" must be true or false, got "yes"');
    expect(message(() => new SparsityTarget({ layer: '' }))).to.equal('sparsity "layer" must be a layer name, got ""');
    expect(builtins.regularizers.get('l2')({ type: 'l2', coefficient: 0.1, roles: ['weights', 'bias'] }).spec()).to.deep.equal({ type: 'l2', coefficient: 0.1, roles: ['weights', 'bias'] });
    expect(new L2WeightDecay(0.1).roles).to.deep.equal(['weights']);
  });

  it('estimators: "cd" and "pcd" refuse unknown keys (a "persistent" key too: the type says it); the others as well', function () {
    const rbm = RBM.create(be, { visible: 3, hidden: 2 });
    expect(message(() => builtins.estimators.get('cd')(rbm, { type: 'cd', k: 1, steps: 3 }))).to.equal(
      'estimator "cd" has an unknown option "steps"; its options are "k", "chains", "meanLayers", "statistics"',
    );
    expect(message(() => builtins.estimators.get('pcd')(rbm, { type: 'pcd', chain: 5 }))).to.match(/^estimator "pcd" has an unknown option "chain"; .* \(did you mean "chains"\?\)$/);
    expect(message(() => builtins.estimators.get('cd')(rbm, { type: 'cd', persistent: true }))).to.match(/^estimator "cd" has an unknown option "persistent"/);
    expect(message(() => new Trainer(rbm, { estimator: { type: 'pcd', meanlayers: [] } }))).to.match(/estimator "pcd" has an unknown option "meanlayers"; .* \(did you mean "meanLayers"\?\)$/);
    expect(message(() => builtins.estimators.get('mean-field-pcd')(rbm, { type: 'mean-field-pcd', tollerance: 0 }))).to.match(/unknown option "tollerance"; .* \(did you mean "tolerance"\?\)$/);
    expect(message(() => builtins.estimators.get('scaled-field-cd')(rbm, { type: 'scaled-field-cd', upscale: 2 }))).to.match(/unknown option "upscale"; .* \(did you mean "upScale"\?\)$/);
    expect(message(() => builtins.estimators.get('wake-dream')(rbm, { type: 'wake-dream', sweep: 2 }))).to.match(/^estimator "wake-dream" has an unknown option "sweep"/);
    // Wrongly typed values of CD's options.
    expect(message(() => new ContrastiveDivergence(rbm, { persistent: 'yes' as unknown as boolean }))).to.equal('contrastive divergence "persistent" must be true or false, got "yes"');
    expect(message(() => new ContrastiveDivergence(rbm, { meanLayers: 'visible' as unknown as string[] }))).to.equal(
      'contrastive divergence "meanLayers" must be an array of layer names, got "visible"',
    );
    expect(message(() => new ContrastiveDivergence(rbm, { statistics: ['mean'] as unknown as Record<string, 'mean'> }))).to.equal(
      'contrastive divergence "statistics" must be an object { "<layer>": "mean" | "sample" }, got ["mean"]',
    );
    expect(builtins.estimators.get('pcd')(rbm, { type: 'pcd', k: 2, chains: 4 }).spec()).to.deep.equal({ type: 'pcd', k: 2, meanLayers: [], chains: 4 });
  });

  it('schedules refuse unknown keys, from the registry and as hyperparameters', function () {
    expect(message(() => builtins.schedules.get('constant')({ type: 'constant', vaule: 0.1 }))).to.equal(
      'schedule "constant" has an unknown option "vaule"; its options are "value" (did you mean "value"?)',
    );
    expect(message(() => builtins.schedules.get('linear')({ type: 'linear', from: 0.5, to: 0.9, end: 5, units: 'epoch' }))).to.match(/^schedule "linear" has an unknown option "units"; .* \(did you mean "unit"\?\)$/);
    expect(message(() => builtins.schedules.get('list')({ type: 'list', values: [1], repeat: true }))).to.match(/^schedule "list" has an unknown option "repeat"; its options are "values"$/);
    expect(message(() => builtins.schedules.get('step-decay')({ type: 'step-decay', initial: 1, factor: 0.5, every: 2, evry: 3 }))).to.match(/unknown option "evry"/);
    expect(message(() => toSchedule({ type: 'exponential', initial: 1, rate: 0.9, decay: 0.1 }, 'learning rate'))).to.match(/^schedule "exponential" has an unknown option "decay"/);
    const rbm = RBM.create(be, { visible: 3, hidden: 2 });
    expect(message(() => new Trainer(rbm, { momentum: { type: 'linear', from: 0.5, to: 0.9, end: 5, strat: 1 } }))).to.match(/unknown option "strat"; .* \(did you mean "start"\?\)$/);
    expect(builtins.schedules.get('linear')({ type: 'linear', from: 0.5, to: 0.9, end: 5 }).spec()).to.deep.equal({ type: 'linear', start: 0, unit: 'epoch', from: 0.5, to: 0.9, end: 5 });
  });

  it('connections refuse extra keys (neither type has options)', function () {
    const spec = (connection: Record<string, unknown>) => ({
      kind: 'graph',
      layers: [
        { type: 'bernoulli', name: 'visible', size: 3 },
        { type: 'bernoulli', name: 'hidden', size: 2 },
      ],
      connections: [{ type: 'dense', name: 'visible-hidden', from: 'visible', to: 'hidden', ...connection }] as never,
    });
    expect(message(() => buildModel(be, spec({ weightStd: 0.1 })))).to.equal('connection "visible-hidden" (dense) has an unknown option "weightStd"; it takes no options');
    expect(message(() => buildModel(be, { ...spec({}), connections: [{ type: 'lateral', name: 'v-v', from: 'visible', to: 'visible', symmetric: true }] }))).to.equal(
      'connection "v-v" (lateral) has an unknown option "symmetric"; it takes no options',
    );
    expect(buildModel(be, spec({})).connections[0]!.spec()).to.deep.equal({ type: 'dense', name: 'visible-hidden', from: 'visible', to: 'hidden' });
  });

  it('optimizers: "nesterov" must be a boolean ("yes" is an error, not false); unknown keys are refused', function () {
    const rbm = RBM.create(be, { visible: 3, hidden: 2 });
    expect(message(() => builtins.optimizers.get('sgd')(rbm, { type: 'sgd', nesterov: 'yes' }))).to.equal('SGD "nesterov" must be true or false, got "yes"');
    expect(message(() => new SGD(be, rbm.parameters, { nesterov: 1 as unknown as boolean }))).to.equal('SGD "nesterov" must be true or false, got 1');
    expect(message(() => new Trainer(rbm, { optimizer: { type: 'sgd', nestrov: true } }))).to.equal(
      'optimizer "sgd" has an unknown option "nestrov"; its options are "nesterov" (did you mean "nesterov"?)',
    );
    expect(message(() => builtins.optimizers.get('adam')(rbm, { type: 'adam', beta: 0.9 }))).to.match(/^optimizer "adam" has an unknown option "beta"; its options are "beta1", "beta2", "epsilon"/);
    expect(builtins.optimizers.get('sgd')(rbm, { type: 'sgd', nesterov: true }).spec()).to.deep.equal({ type: 'sgd', nesterov: true });
    expect(builtins.optimizers.get('sgd')(rbm, { type: 'sgd' }).spec()).to.deep.equal({ type: 'sgd', nesterov: false });
  });
});
