// Gradient mode, seeds, threads and devices: process-wide libtorch settings.
import { native } from './native.js';
import type { Tensor } from './tensor.js';

/** Runs fn with gradient recording off (torch.no_grad()); restores the previous mode after. */
export function noGrad<T>(fn: () => T): T {
  const previous = native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(previous);
  }
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

/**
 * Back-propagates several outputs at once (torch.autograd.backward). With `inputs`, only their
 * gradients are computed and accumulated: parts of the graph that lead elsewhere are skipped.
 */
export function backward(
  outputs: readonly Tensor[], grads?: readonly Tensor[] | null, opts: { retainGraph?: boolean; inputs?: readonly Tensor[] } = {},
): void {
  native.backward(
    outputs.map((t) => t.handle), grads ? grads.map((t) => t.handle) : null, opts.retainGraph ?? false, false,
    opts.inputs ? opts.inputs.map((t) => t.handle) : undefined,
  );
}

/** Seeds libtorch's global generator (torch.manual_seed). */
export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}

export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

export function cudaDeviceCount(): number {
  return native.cudaDeviceCount();
}

/** Native tensor handles alive now (not disposed, not garbage-collected): for leak checks. */
export function liveTensorCount(): number {
  return native.liveTensors();
}
