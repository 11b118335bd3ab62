// The official learning-rate schedule: `niter` epochs at `lr`, then `niter_decay` epochs in which
// it falls linearly to zero, stepped at the end of each epoch (train.py + update_learning_rate).

/** The learning rate in effect during `epoch` (1-based). */
export function learningRateAt(epoch: number, opts: { lr: number; niter: number; niter_decay: number }): number {
  if (epoch <= opts.niter + 1 || opts.niter_decay <= 0) return opts.lr;
  // After each epoch e > niter the official code subtracts lr / niter_decay once.
  const decaySteps = Math.min(epoch - 1 - opts.niter, opts.niter_decay);
  return Math.max(0, opts.lr - (opts.lr / opts.niter_decay) * decaySteps);
}

/** Total epochs of a run. */
export function totalEpochs(opts: { niter: number; niter_decay: number }): number {
  return opts.niter + opts.niter_decay;
}
