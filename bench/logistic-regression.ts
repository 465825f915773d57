/** The classifier of the quality benchmarks: a linear probe on features (or raw pixels). */
import { Matrix, type Backend, type Tensor } from '@boltzmann/tensor';

/**
 * Multinomial logistic regression by minibatch SGD with momentum on the backend: softmax of
 * x W + b, cross-entropy, L2 1e-5 on W, batch 100, lr 0.1 with momentum 0.9 decayed to a tenth
 * over the epochs (inputs in [0, 1]). Returns the test accuracy.
 */
export function logisticRegression(be: Backend, train: Matrix, trainLabels: Uint8Array, test: Matrix, testLabels: Uint8Array, epochs: number, seed: number): number {
  const classes = 10;
  const d = train.cols;
  const n = train.rows;
  const batch = 100;
  const oneHot = Matrix.zeros(n, classes, be.precision);
  trainLabels.forEach((y, r) => oneHot.set(r, y, 1));
  const x = be.upload(train);
  const y = be.upload(oneHot);
  const w = be.zeros(d, classes);
  const b = be.zeros(1, classes);
  const vw = be.zeros(d, classes);
  const vb = be.zeros(1, classes);
  const gw = be.zeros(d, classes);
  const gb = be.zeros(1, classes);
  const xb = be.zeros(batch, d);
  const yb = be.zeros(batch, classes);
  const p = be.zeros(batch, classes);
  const order = new Uint32Array(n).map((_, i) => i);
  let state = seed >>> 0 || 1;
  const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);
  for (let e = 0; e < epochs; e++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const lr = 0.1 * 0.1 ** (e / Math.max(1, epochs - 1));
    for (let start = 0; start + batch <= n; start += batch) {
      const idx = order.subarray(start, start + batch);
      be.gatherRows(x, idx, xb);
      be.gatherRows(y, idx, yb);
      be.linear(xb, w, b, p);
      be.softmaxGroups(p, classes, p);
      be.binary('sub', p, yb, p);
      be.matmul(xb, p, gw, { transposeA: true, alpha: 1 / batch });
      be.axpby(1, gw, 1e-5, w, gw);
      be.sumColumns(p, gb, 1 / batch, 0);
      for (const [v, g, t] of [[vw, gw, w], [vb, gb, b]] as [Tensor, Tensor, Tensor][]) {
        be.axpby(0.9, v, -lr, g, v);
        be.axpby(1, t, 1, v, t);
      }
    }
  }
  const xt = be.upload(test);
  const scores = be.zeros(test.rows, classes);
  be.linear(xt, w, b, scores);
  const s = be.readSync(scores);
  let correct = 0;
  for (let r = 0; r < test.rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (s.get(r, c) > s.get(r, best)) best = c;
    if (best === testLabels[r]) correct++;
  }
  for (const t of [x, y, w, b, vw, vb, gw, gb, xb, yb, p, xt, scores]) be.dispose(t);
  return correct / test.rows;
}
