import { expect } from 'chai';
import { InvalidValueError, ReferenceBackend } from '@boltzmann/tensor';
import { L2WeightDecay, RBM, Trainer, builtinComponents, checkBoolean, checkNumber, checkOptionKeys, defaultComponents, suggestName } from '@boltzmann/core';

// A plugin validates its options with core's own checks (exported from the package root), so its
// messages read like those of the built-in types.
describe('option checks exported for plugins: checkOptionKeys, checkBoolean, suggestName', function () {
  it('a plugin regularizer refuses a misspelt option and a non-boolean flag as the built-in ones do', function () {
    const components = builtinComponents();
    components.regularizers.register('test-penalty', (spec) => {
      checkOptionKeys('regularizer "test-penalty"', spec, ['coefficient', 'biases']);
      const coefficient = checkNumber('test-penalty "coefficient"', spec['coefficient'] ?? 1e-3, 0);
      if (spec['biases'] !== undefined) checkBoolean('test-penalty "biases"', spec['biases']);
      return new L2WeightDecay(coefficient);
    });
    const rbm = RBM.create(new ReferenceBackend(), { visible: 3, hidden: 2 });
    expect(() => new Trainer(rbm, { components, regularizers: [{ type: 'test-penalty', coeficient: 0.1 }] })).to.throw(
      InvalidValueError,
      'regularizer "test-penalty" has an unknown option "coeficient"; its options are "coefficient", "biases" (did you mean "coefficient"?)',
    );
    expect(() => new Trainer(rbm, { components, regularizers: [{ type: 'test-penalty', biases: 'yes' }] })).to.throw(InvalidValueError, 'test-penalty "biases" must be true or false, got "yes"');
    expect(new Trainer(rbm, { components, regularizers: [{ type: 'test-penalty', coefficient: 0.1, biases: true }] }).regularizers.map((r) => r.type)).to.deep.equal(['l2', 'l2']);
    // Only the set it was registered into knows it: the built-ins neither have it nor take registrations.
    expect(() => new Trainer(rbm, { regularizers: [{ type: 'test-penalty' }] })).to.throw(InvalidValueError, /unknown regularizer "test-penalty"; registered: dropout, l1, l2, max-norm, sparsity/);
    expect(() => defaultComponents().regularizers.register('test-penalty', () => new L2WeightDecay(1))).to.throw(InvalidValueError, /shared and read-only.*builtinComponents\(\)/);
  });

  it('suggestName suggests the nearest known name, or nothing', function () {
    expect(suggestName('hiden', ['visible', 'hidden'])).to.equal(' (did you mean "hidden"?)');
    expect(suggestName('nesterov', ['nestrov', 'momentum'])).to.equal(' (did you mean "nestrov"?)');
    expect(suggestName('zzz', ['visible', 'hidden'])).to.equal('');
  });
});
