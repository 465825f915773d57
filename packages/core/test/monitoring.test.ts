import { expect } from 'chai';
import { InvalidValueError, ReferenceBackend } from '@boltzmann/tensor';
import { DBM, RBM, monitorSupport, resolveMonitor } from '@boltzmann/core';

describe('resolveMonitor', function () {
  const be = new ReferenceBackend();

  it('fills each left-out choice with what the model allows and keeps the given ones', function () {
    const rbm = RBM.create(be, { visible: 4, hidden: 3, seed: 1 });
    expect(resolveMonitor(rbm)).to.deep.equal({ freeEnergy: true, pseudoLikelihood: true });
    expect(resolveMonitor(rbm, { pseudoLikelihood: false })).to.deep.equal({ freeEnergy: true, pseudoLikelihood: false });
    const gaussian = RBM.create(be, { visible: { type: 'gaussian', size: 4 }, hidden: 3, seed: 1 });
    expect(resolveMonitor(gaussian, {}, monitorSupport(gaussian))).to.deep.equal({ freeEnergy: true, pseudoLikelihood: false });
    const dbm = DBM.create(be, { layers: [4, 3, 2], seed: 1 });
    expect(resolveMonitor(dbm, { freeEnergy: false })).to.deep.equal({ freeEnergy: false, pseudoLikelihood: false });
  });

  it('asking for a metric the model cannot give is an InvalidValueError naming the option', function () {
    const dbm = DBM.create(be, { layers: [4, 3, 2], seed: 1 });
    expect(() => resolveMonitor(dbm, { freeEnergy: true })).to.throw(InvalidValueError, /^monitor\.freeEnergy: cannot compute freeEnergy on this dbm model: .*"hidden1-hidden2"/);
    const gaussian = RBM.create(be, { visible: { type: 'gaussian', size: 4 }, hidden: 3, seed: 1 });
    expect(() => resolveMonitor(gaussian, { pseudoLikelihood: true })).to.throw(InvalidValueError, /^monitor\.pseudoLikelihood: cannot compute pseudoLogLikelihood on this rbm model: .*gaussian units/);
  });
});
