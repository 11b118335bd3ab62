// Loads the libtorch binding (native/build/Release/torch_addon.node) and sets libtorch's thread
// count: Debian's libtorch starts with one intra-op thread, so the count is set explicitly to the
// machine's cores unless PIX2PIXHD_THREADS says otherwise.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';
export type TypedArray =
  | Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array;

export interface NativeTensor {
  dispose(): void;
  readonly disposed: boolean;
  shape(): number[];
  strides(): number[];
  dtype(): DType;
  device(): string;
  requiresGrad(): boolean;
  setRequiresGrad(value: boolean): void;
  isLeaf(): boolean;
  grad(): NativeTensor | null;
  setGrad(grad: NativeTensor | null): void;
  retainGrad(): void;
  toArray(): TypedArray;
  item(): number | boolean;
  sameStorage(other: NativeTensor): boolean;
  dataPtr(): bigint;
}

export type NativeValue = NativeTensor | number | boolean | string | null | NativeValue[];

export interface NativeBinding {
  NativeTensor: abstract new (...args: never[]) => NativeTensor;
  fromArray(data: TypedArray, shape: number[], dtype: DType, device?: string): NativeTensor;
  copyFromArray(tensor: NativeTensor, data: TypedArray, dtype: DType): void;
  resolveOp(name: string, overload: string): number;
  opSchema(id: number): string;
  callOp(id: number, args: unknown[]): NativeValue | undefined;
  backward(
    outputs: NativeTensor[], grads: NativeTensor[] | null, retainGraph: boolean, createGraph: boolean, inputs?: NativeTensor[],
    onGrad?: (index: number, grad: NativeTensor) => void,
  ): void;
  setGradEnabled(enabled: boolean): boolean;
  isGradEnabled(): boolean;
  manualSeed(seed: number | bigint): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  cudaDeviceCount(): number;
  liveTensors(): number;
  /** Bytes the C/C++ heap has handed out (glibc's mallinfo2), or null where unknown. */
  heapInUse(): number | null;
  /**
   * The caching CPU allocator's counters (native/src/cpu_allocator.cpp): blocks of 1 MiB and more
   * handed out again from the cache (whole, or split from a larger one, or grown), mapped afresh,
   * and unmapped; bytes cached, and mapped in all (in use + cached) now and at most.
   */
  cpuAllocatorStats(): CpuAllocatorStats;
  /** Unmaps every cached block. */
  cpuAllocatorRelease(): void;
  /** Records the ATen ops run from here on (libtorch's legacy profiler) until profileStop() writes them as a Chrome trace. */
  profileStart(path: string): void;
  profileStop(): void;
  buildInfo(): { torchVersion: string; parallel: string; cuda: boolean };
  autocastEnter(deviceType: 'cuda' | 'cpu', dtype: DType, enabled: boolean): [boolean, DType];
  autocastExit(deviceType: 'cuda' | 'cpu', wasEnabled: boolean, dtype: DType): void;
  /** One parameter's Adam update, on the path that suits it (native/src/adam.cpp). */
  adamUpdate(
    param: NativeTensor, grad: NativeTensor, expAvg: NativeTensor, expAvgSq: NativeTensor,
    step: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number,
  ): void;
  /**
   * Every parameter's Adam update at once (optimizer.step()): on CUDA one `_fused_adam_` call (or
   * one foreach sequence) per device, dtype and hyper-parameters. `hyper` holds [step, lr, beta1,
   * beta2, eps, weightDecay] per parameter.
   */
  adamStep(params: NativeTensor[], grads: NativeTensor[], expAvg: NativeTensor[], expAvgSq: NativeTensor[], hyper: Float64Array): void;
  /** Instance norm (no affine, input statistics) and optionally ReLU, in place; inference only. */
  instanceNormInPlace(x: NativeTensor, eps: number, relu: boolean): NativeTensor;
  /** conv_transpose2d (groups 1) as oneDNN's convolution input gradient; differentiable (native/src/conv_transpose.cpp). */
  convTranspose2dMkldnn(
    input: NativeTensor, weight: NativeTensor, bias: NativeTensor | null, stride: number[], padding: number[], outputPadding: number[], dilation: number[],
  ): NativeTensor;
  /** conv2d(reflectionPad(input, K/2), weight [O ≤ 4, C, K, K], bias) in one pass, for inference (native/src/narrow_conv.cpp). */
  reflectConvNarrow(input: NativeTensor, weight: NativeTensor, bias: NativeTensor | null): NativeTensor;
  onehotConv2d(weight: NativeTensor, labels: NativeTensor, edges: NativeTensor | null, labelNc: number): NativeTensor;
  /**
   * Back-propagates into `params` only, updating each with Adam inside the backward pass the
   * moment its gradient is complete (any device: the update runs in C++ on the engine's thread);
   * `hyper` as adamStep's. Returns 1 for each parameter that received a gradient and was updated,
   * 0 for the others.
   */
  adamBackward(
    outputs: NativeTensor[], grads: NativeTensor[] | null, retainGraph: boolean,
    params: NativeTensor[], expAvg: NativeTensor[], expAvgSq: NativeTensor[], hyper: Float64Array,
  ): Uint8Array;
  /**
   * Adam's parameter updates in this process by path (for tests and the GPU check): the one-pass
   * CPU kernel, ATen's `_fused_adam_`, the foreach ops, the single-tensor op sequence; and whether
   * this build has `_fused_adam_` at all.
   */
  adamUpdateCounts(): AdamUpdateCounts;
  /** Forces Adam's updates onto one path where it can run ('auto': the default choice); returns the previous one. */
  adamPath(path?: AdamPathName): AdamPathName;
  /** The CUDA caching allocator's figures for a device, in bytes; null where this build cannot read them. */
  cudaMemoryStats(device: number): { allocated: number; peakAllocated: number; reserved: number; peakReserved: number } | null;
  /** Restarts the allocator's peaks from the current figures; false where this build cannot. */
  cudaResetPeakMemoryStats(device: number): boolean;
  /** Which c10d process groups this build of the binding has (native/src/dist.cpp). */
  distInfo(): { gloo: boolean; nccl: boolean };
  distInit(options: NativeDistOptions): NativeProcessGroup;
}

export interface AdamUpdateCounts {
  cpuKernel: number;
  fusedAdam: number;
  foreach: number;
  ops: number;
  fusedAdamBuilt: boolean;
  /** Device types ('cpu', 'cuda') found to have no `_fused_adam_` kernel: their updates fall back. */
  fusedAdamMissing: string[];
}

export type AdamPathName = 'auto' | 'ops' | 'foreach' | 'fused';

export interface NativeDistOptions {
  backend: 'gloo' | 'nccl';
  rank: number;
  size: number;
  timeoutMs: number;
  store: 'tcp' | 'file';
  host?: string;
  port?: number;
  /** Serve the TCPStore (default: rank 0). */
  isServer?: boolean;
  /** Keys of this group are stored under this prefix. */
  prefix?: string;
  path?: string;
  threads?: number;
}

/** A collective in flight: wait() blocks until done and throws what the backend threw. */
export interface NativeWork {
  wait(): void;
  isCompleted(): boolean;
}

export interface NativeProcessGroup {
  readonly rank: number;
  readonly size: number;
  readonly backend: string;
  allreduce(tensors: NativeTensor[], op: 'sum' | 'avg' | 'max' | 'min'): NativeWork;
  reduceInBackward(outputs: NativeTensor[], retainGraph: boolean, params: NativeTensor[], buckets: NativeTensor[], layout: Float64Array): void;
  broadcast(tensors: NativeTensor[], root: number): NativeWork;
  barrier(): NativeWork;
  storeSet(key: string, value: string): void;
  storeGet(key: string): string;
  shutdown(): void;
}

const here = dirname(fileURLToPath(import.meta.url));
// PIX2PIXHD_TORCH_ADDON: the binding built elsewhere (another libtorch, a CUDA build). The tests
// also point it at a missing file to prove that `test --onnx` runs where libtorch is absent.
const fromEnv = process.env.PIX2PIXHD_TORCH_ADDON;
// (Exported for tests that load it in a worker thread of their own.)
export const addonPath = fromEnv ? fromEnv : join(here, '..', '..', 'native', 'build', 'Release', 'torch_addon.node');
if (!existsSync(addonPath)) {
  throw new Error(fromEnv
    ? `the libtorch binding PIX2PIXHD_TORCH_ADDON names (${addonPath}) does not exist`
    : `the libtorch binding is not built (${addonPath} is missing): run \`npm run build:native\` or scripts/setup.sh`);
}
// libgomp's threads spin while they wait for work unless told otherwise; when another process
// competes for the cores the spinning threads take them from the one doing the work. Passive
// waiting costs nothing measurable on a quiet machine and avoids that collapse on a busy one
// (editor synthesis at 512×256, 2 threads, 2 competing processes: see README, Benchmarks). Read
// by libgomp when libtorch loads, just below; a value the user set is kept.
if (process.env.OMP_WAIT_POLICY === undefined) process.env.OMP_WAIT_POLICY = 'PASSIVE';
export interface CpuAllocatorStats {
  /** False where PIX2PIXHD_CPU_CACHE=0 left libtorch's default allocator in place. */
  enabled: boolean;
  hits: number; splits: number; grows: number; misses: number; releases: number;
  cachedBytes: number; mappedBytes: number; peakMappedBytes: number;
  /** Bytes of fresh pages mapped (on a miss) or added (by a growth): each page faults when first written. */
  freshBytes: number;
}

export const native: NativeBinding = createRequire(import.meta.url)(addonPath);

function initialThreads(): number {
  const fromEnv = process.env.PIX2PIXHD_THREADS;
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 1) throw new Error(`PIX2PIXHD_THREADS must be a positive integer, got '${fromEnv}'`);
    return n;
  }
  return availableParallelism();
}
native.setNumThreads(initialThreads());
