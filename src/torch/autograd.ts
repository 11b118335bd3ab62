// Gradient mode, seeds, threads and devices: process-wide libtorch settings.
import { native, type CpuAllocatorStats, type NativeTensor } from './native.js';
import { tidy } from './scope.js';
import { type Tensor, wrapNative } from './tensor.js';

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
 *
 * With `onGrad` as well, each input's gradient is handed to `onGrad(index into inputs, grad)` the
 * moment the engine has finished accumulating it, while the rest of the graph is still being
 * back-propagated, and is not left in `.grad` (the tensor is valid only during the call). An
 * optimizer can so update every parameter inside the backward pass, and no gradient buffers are
 * kept: for a large generator that is its whole size in memory. Inputs must be CPU leaf tensors
 * that require grad, and must not be needed by the graph again afterwards (no retainGraph with
 * a later backward through them).
 */
export function backward(
  outputs: readonly Tensor[], grads?: readonly Tensor[] | null,
  opts: { retainGraph?: boolean; inputs?: readonly Tensor[]; onGrad?: (index: number, grad: Tensor) => void } = {},
): void {
  const { onGrad } = opts;
  native.backward(
    outputs.map((t) => t.handle), grads ? grads.map((t) => t.handle) : null, opts.retainGraph ?? false, false,
    opts.inputs ? opts.inputs.map((t) => t.handle) : undefined,
    onGrad ? (index: number, grad: NativeTensor) => tidy(() => onGrad(index, wrapNative(grad))) : undefined,
  );
}

/** backward's shape: what a caller may put in its place (a backward through recomputed segments, see checkpoint.ts). */
export type BackwardFunction = (
  outputs: readonly Tensor[], grads?: readonly Tensor[] | null,
  opts?: { inputs?: readonly Tensor[]; onGrad?: (index: number, grad: Tensor) => void },
) => void;

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

/**
 * Bytes the process's C/C++ heap holds now (tensor memory included: glibc's heap and the caching
 * CPU allocator's blocks in use), or null where the C library does not say (glibc's mallinfo2
 * does): for leak checks. Unlike the resident size it
 * goes down when memory is freed (the addon keeps the heap from being trimmed, so RSS does not).
 */
export function heapBytesInUse(): number | null {
  return native.heapInUse();
}

/** The caching CPU allocator's counters: reuses, fresh mappings, cached and mapped bytes. */
export function cpuAllocatorStats(): CpuAllocatorStats {
  return native.cpuAllocatorStats();
}

/** Unmaps every block the caching CPU allocator holds for reuse (memory back to the system). */
export function releaseCachedCpuMemory(): void {
  native.cpuAllocatorRelease();
}
