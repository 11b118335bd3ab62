// The Tensor type: a typed surface over a native libtorch tensor. Every op goes through
// callOp('name.overload', args), which reaches ATen's dispatcher (autograd included).
import { native, type DType, type NativeTensor, type TypedArray } from './native.js';
import { track, type Disposable } from './scope.js';

export type { DType, TypedArray } from './native.js';
export type Shape = readonly number[];
export type Scalar = number | boolean;
/** 'mean' | 'sum' | 'none', as PyTorch's loss reductions. */
export type Reduction = 'none' | 'mean' | 'sum';

const opIds = new Map<string, number>();

function resolve(qualified: string): number {
  let id = opIds.get(qualified);
  if (id === undefined) {
    const dot = qualified.indexOf('.');
    const name = dot < 0 ? qualified : qualified.slice(0, dot);
    const overload = dot < 0 ? '' : qualified.slice(dot + 1);
    id = native.resolveOp(name, overload);
    opIds.set(qualified, id);
  }
  return id;
}

function toNativeArg(a: unknown): unknown {
  if (a instanceof Tensor) return a.handle;
  if (Array.isArray(a)) return a.map(toNativeArg);
  return a;
}

function fromNative(v: unknown): unknown {
  if (v instanceof (native.NativeTensor as unknown as new () => NativeTensor)) return new Tensor(v as NativeTensor);
  if (Array.isArray(v)) return v.map(fromNative);
  return v;
}

/** The schema of an ATen op, e.g. opSchema('add.Tensor'). */
export function opSchema(qualified: string): string {
  return native.opSchema(resolve(qualified));
}

/**
 * Calls ATen op `name.overload` with positional arguments in schema order (keyword-only ones
 * included; undefined takes the schema default). Tensors in the result come back as Tensors
 * owned by the current tidy scope.
 */
export function callOp(qualified: string, args: unknown[]): unknown {
  return fromNative(native.callOp(resolve(qualified), args.map(toNativeArg)));
}

function callT(qualified: string, args: unknown[]): Tensor {
  return callOp(qualified, args) as Tensor;
}

const reductionCode: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };
export function reductionArg(r: Reduction): number {
  const code = reductionCode[r];
  if (code === undefined) throw new Error(`reduction must be 'none', 'mean' or 'sum', got '${String(r)}'`);
  return code;
}

function dims(d: number | readonly number[]): number[] {
  return typeof d === 'number' ? [d] : [...d];
}

export class Tensor implements Disposable {
  #handle: NativeTensor | null;

  constructor(handle: NativeTensor) {
    this.#handle = handle;
    track(this);
  }

  /** The native handle; a clear error once disposed. */
  get handle(): NativeTensor {
    if (this.#handle === null) throw new Error('the tensor was disposed (used after dispose() or outside its tidy scope)');
    return this.#handle;
  }

  get isDisposed(): boolean {
    return this.#handle === null;
  }

  dispose(): void {
    this.#handle?.dispose();
    this.#handle = null;
  }

  // ---- metadata ----
  get shape(): number[] { return this.handle.shape(); }
  get dtype(): DType { return this.handle.dtype(); }
  get device(): string { return this.handle.device(); }
  get ndim(): number { return this.shape.length; }
  get numel(): number { return this.shape.reduce((a, b) => a * b, 1); }
  size(dim: number): number {
    const s = this.shape;
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new RangeError(`size(${dim}): the tensor has ${s.length} dimensions`);
    return s[d]!;
  }
  strides(): number[] { return this.handle.strides(); }

  // ---- data ----
  /** A copy of the elements in row-major order (bool → Uint8Array, int64 → BigInt64Array). */
  toArray(): TypedArray { return this.handle.toArray(); }
  /** The elements as float32, whatever the dtype. */
  toFloat32Array(): Float32Array {
    if (this.dtype === 'float32') return this.toArray() as Float32Array;
    const f = this.to('float32');
    try { return f.toArray() as Float32Array; } finally { f.dispose(); }
  }
  /** Elements as JS numbers (int64 converted with Number()). */
  toNumbers(): number[] {
    const a = this.toArray();
    return a instanceof BigInt64Array ? Array.from(a, Number) : Array.from(a as ArrayLike<number>);
  }
  item(): number {
    const v = this.handle.item();
    return typeof v === 'boolean' ? Number(v) : v;
  }

  // ---- autograd ----
  get requiresGrad(): boolean { return this.handle.requiresGrad(); }
  requiresGrad_(value = true): this { this.handle.setRequiresGrad(value); return this; }
  get isLeaf(): boolean { return this.handle.isLeaf(); }
  /** The accumulated gradient (a new handle on it), or null. */
  get grad(): Tensor | null {
    const g = this.handle.grad();
    return g === null ? null : new Tensor(g);
  }
  set grad(g: Tensor | null) { this.handle.setGrad(g === null ? null : g.handle); }
  retainGrad(): this { this.handle.retainGrad(); return this; }
  backward(grad?: Tensor, opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    native.backward([this.handle], grad ? [grad.handle] : null, opts.retainGraph ?? false, opts.createGraph ?? false);
  }
  detach(): Tensor { return callT('detach', [this]); }
  /** True when both share storage (a view or the same tensor). */
  isAliasOf(other: Tensor): boolean { return this.handle.sameStorage(other.handle); }

  // ---- conversion ----
  clone(): Tensor { return callT('clone', [this]); }
  contiguous(format: 'contiguous' | 'channels_last' = 'contiguous'): Tensor { return callT('contiguous', [this, format]); }
  to(target: DType | string, opts: { dtype?: DType } = {}): Tensor {
    if (isDType(target)) return callT('to.dtype', [this, target]);
    return callT('to.device', [this, target, opts.dtype ?? this.dtype]);
  }
  float(): Tensor { return this.to('float32'); }
  long(): Tensor { return this.to('int64'); }
  bool(): Tensor { return this.to('bool'); }

  // ---- elementwise arithmetic (tensor or scalar operands, PyTorch broadcasting) ----
  add(other: Tensor | number, alpha = 1): Tensor {
    return other instanceof Tensor ? callT('add.Tensor', [this, other, alpha]) : callT('add.Scalar', [this, other, alpha]);
  }
  sub(other: Tensor | number, alpha = 1): Tensor {
    return other instanceof Tensor ? callT('sub.Tensor', [this, other, alpha]) : callT('sub.Scalar', [this, other, alpha]);
  }
  mul(other: Tensor | number): Tensor {
    return other instanceof Tensor ? callT('mul.Tensor', [this, other]) : callT('mul.Scalar', [this, other]);
  }
  div(other: Tensor | number): Tensor {
    return other instanceof Tensor ? callT('div.Tensor', [this, other]) : callT('div.Scalar', [this, other]);
  }
  /** other - this */
  rsub(other: number): Tensor { return callT('rsub.Scalar', [this, other, 1]); }
  neg(): Tensor { return callT('neg', [this]); }
  abs(): Tensor { return callT('abs', [this]); }
  pow(exponent: Tensor | number): Tensor {
    return exponent instanceof Tensor ? callT('pow.Tensor_Tensor', [this, exponent]) : callT('pow.Tensor_Scalar', [this, exponent]);
  }
  square(): Tensor { return callT('square', [this]); }
  sqrt(): Tensor { return callT('sqrt', [this]); }
  rsqrt(): Tensor { return callT('rsqrt', [this]); }
  exp(): Tensor { return callT('exp', [this]); }
  log(): Tensor { return callT('log', [this]); }
  floor(): Tensor { return callT('floor', [this]); }
  round(): Tensor { return callT('round', [this]); }
  sign(): Tensor { return callT('sign', [this]); }
  reciprocal(): Tensor { return callT('reciprocal', [this]); }
  clamp(min: number | null, max: number | null = null): Tensor { return callT('clamp', [this, min, max]); }
  maximum(other: Tensor): Tensor { return callT('maximum', [this, other]); }
  minimum(other: Tensor): Tensor { return callT('minimum', [this, other]); }
  remainder(other: number): Tensor { return callT('remainder.Scalar', [this, other]); }
  matmul(other: Tensor): Tensor { return callT('matmul', [this, other]); }

  // ---- activations ----
  relu(): Tensor { return callT('relu', [this]); }
  leakyRelu(negativeSlope = 0.01): Tensor { return callT('leaky_relu', [this, negativeSlope]); }
  tanh(): Tensor { return callT('tanh', [this]); }
  sigmoid(): Tensor { return callT('sigmoid', [this]); }
  softmax(dim: number): Tensor { return callT('softmax.int', [this, dim]); }

  // ---- comparisons and logic (bool results) ----
  eq(other: Tensor | Scalar): Tensor { return cmp('eq', this, other); }
  ne(other: Tensor | Scalar): Tensor { return cmp('ne', this, other); }
  lt(other: Tensor | Scalar): Tensor { return cmp('lt', this, other); }
  le(other: Tensor | Scalar): Tensor { return cmp('le', this, other); }
  gt(other: Tensor | Scalar): Tensor { return cmp('gt', this, other); }
  ge(other: Tensor | Scalar): Tensor { return cmp('ge', this, other); }
  logicalAnd(other: Tensor): Tensor { return callT('logical_and', [this, other]); }
  logicalOr(other: Tensor): Tensor { return callT('logical_or', [this, other]); }
  logicalXor(other: Tensor): Tensor { return callT('logical_xor', [this, other]); }
  logicalNot(): Tensor { return callT('logical_not', [this]); }
  /** this where condition holds, other elsewhere. */
  where(condition: Tensor, other: Tensor | number): Tensor {
    return other instanceof Tensor
      ? callT('where.self', [condition, this, other])
      : callT('where.ScalarOther', [condition, this, other]);
  }
  any(): Tensor { return callT('any', [this]); }
  all(): Tensor { return callT('all', [this]); }

  // ---- reductions ----
  sum(dim?: number | readonly number[], keepdim = false): Tensor {
    return dim === undefined ? callT('sum', [this]) : callT('sum.dim_IntList', [this, dims(dim), keepdim]);
  }
  mean(dim?: number | readonly number[], keepdim = false): Tensor {
    return dim === undefined ? callT('mean', [this]) : callT('mean.dim', [this, dims(dim), keepdim]);
  }
  /** Maximum of all elements. */
  max(): Tensor { return callT('max', [this]); }
  min(): Tensor { return callT('min', [this]); }
  /** Maximum along a dimension: values and their indices. */
  maxDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = callOp('max.dim', [this, dim, keepdim]) as [Tensor, Tensor];
    return { values, indices };
  }
  minDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = callOp('min.dim', [this, dim, keepdim]) as [Tensor, Tensor];
    return { values, indices };
  }
  amax(dim: number | readonly number[], keepdim = false): Tensor { return callT('amax', [this, dims(dim), keepdim]); }
  argmax(dim?: number, keepdim = false): Tensor { return callT('argmax', [this, dim ?? null, keepdim]); }
  norm(): Tensor { return callT('norm.Scalar', [this, 2]); }

  // ---- shape ----
  reshape(shape: Shape): Tensor { return callT('reshape', [this, [...shape]]); }
  /** A view with a new shape (fails on non-contiguous layouts, as PyTorch's view does). */
  view(shape: Shape): Tensor { return callT('view', [this, [...shape]]); }
  flatten(startDim = 0, endDim = -1): Tensor { return callT('flatten.using_ints', [this, startDim, endDim]); }
  permute(order: Shape): Tensor { return callT('permute', [this, [...order]]); }
  transpose(dim0: number, dim1: number): Tensor { return callT('transpose.int', [this, dim0, dim1]); }
  squeeze(dim?: number): Tensor { return dim === undefined ? callT('squeeze', [this]) : callT('squeeze.dim', [this, dim]); }
  unsqueeze(dim: number): Tensor { return callT('unsqueeze', [this, dim]); }
  expand(shape: Shape): Tensor { return callT('expand', [this, [...shape]]); }
  expandAs(other: Tensor): Tensor { return this.expand(other.shape); }
  /** length elements of dim from start (a view). */
  narrow(dim: number, start: number, length: number): Tensor { return callT('narrow', [this, dim, start, length]); }
  /** Python's x[..., start:end:step] along dim (a view); null bounds mean the ends. */
  slice(dim: number, start: number | null = null, end: number | null = null, step = 1): Tensor {
    return callT('slice.Tensor', [this, dim, start, end, step]);
  }
  select(dim: number, index: number): Tensor { return callT('select.int', [this, dim, index]); }
  flip(dimsToFlip: number | readonly number[]): Tensor { return callT('flip', [this, dims(dimsToFlip)]); }
  repeat(times: Shape): Tensor { return callT('repeat', [this, [...times]]); }
  chunk(chunks: number, dim = 0): Tensor[] { return callOp('chunk', [this, chunks, dim]) as Tensor[]; }

  // ---- indexing ----
  indexSelect(dim: number, index: Tensor): Tensor { return callT('index_select', [this, dim, index]); }
  gather(dim: number, index: Tensor): Tensor { return callT('gather', [this, dim, index]); }
  /** Copy of this with src (or a scalar) written at index along dim. */
  scatter(dim: number, index: Tensor, src: Tensor | number): Tensor {
    return src instanceof Tensor ? callT('scatter.src', [this, dim, index, src]) : callT('scatter.value', [this, dim, index, src]);
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return callT('scatter_add', [this, dim, index, src]); }
  indexAdd(dim: number, index: Tensor, source: Tensor): Tensor { return callT('index_add', [this, dim, index, source]); }
  /** Elements where mask is true, flattened. */
  maskedSelect(mask: Tensor): Tensor { return callT('masked_select', [this, mask]); }
  maskedFill(mask: Tensor, value: number): Tensor { return callT('masked_fill.Scalar', [this, mask, value]); }
  /** Indices of non-zero elements, shape [n, ndim] (int64). */
  nonzero(): Tensor { return callT('nonzero', [this]); }
  /** Sorted unique values; with inverse, the index of each element's value in them. */
  unique(opts: { inverse?: boolean; counts?: boolean } = {}): { values: Tensor; inverse: Tensor; counts: Tensor } {
    const [values, inverse, counts] = callOp('_unique2', [this, true, opts.inverse ?? false, opts.counts ?? false]) as Tensor[];
    return { values: values!, inverse: inverse!, counts: counts! };
  }
  /** One-hot along a new last dimension (int64 class ids in [0, numClasses)). */
  oneHot(numClasses: number): Tensor { return callT('one_hot', [this, numClasses]); }

  // ---- in-place (return this; gradients flow as PyTorch's in-place ops) ----
  private inplace(qualified: string, args: unknown[]): this {
    (callOp(qualified, [this, ...args]) as Tensor).dispose();
    return this;
  }
  add_(other: Tensor | number, alpha = 1): this {
    return other instanceof Tensor ? this.inplace('add_.Tensor', [other, alpha]) : this.inplace('add_.Scalar', [other, alpha]);
  }
  sub_(other: Tensor | number, alpha = 1): this {
    return other instanceof Tensor ? this.inplace('sub_.Tensor', [other, alpha]) : this.inplace('sub_.Scalar', [other, alpha]);
  }
  mul_(other: Tensor | number): this {
    return other instanceof Tensor ? this.inplace('mul_.Tensor', [other]) : this.inplace('mul_.Scalar', [other]);
  }
  div_(other: Tensor | number): this {
    return other instanceof Tensor ? this.inplace('div_.Tensor', [other]) : this.inplace('div_.Scalar', [other]);
  }
  /** this += value * t1 * t2 */
  addcmul_(t1: Tensor, t2: Tensor, value = 1): this { return this.inplace('addcmul_', [t1, t2, value]); }
  /** this += value * t1 / t2 */
  addcdiv_(t1: Tensor, t2: Tensor, value = 1): this { return this.inplace('addcdiv_', [t1, t2, value]); }
  sqrt_(): this { return this.inplace('sqrt_', []); }
  relu_(): this { return this.inplace('relu_', []); }
  leakyRelu_(negativeSlope = 0.01): this { return this.inplace('leaky_relu_', [negativeSlope]); }
  clamp_(min: number | null, max: number | null = null): this { return this.inplace('clamp_', [min, max]); }
  fill_(value: number): this { return this.inplace('fill_.Scalar', [value]); }
  zero_(): this { return this.inplace('zero_', []); }
  copy_(src: Tensor): this { return this.inplace('copy_', [src, false]); }
  normal_(mean = 0, std = 1): this { return this.inplace('normal_', [mean, std, null]); }
  uniform_(from = 0, to = 1): this { return this.inplace('uniform_', [from, to, null]); }
  scatter_(dim: number, index: Tensor, src: Tensor | number): this {
    return src instanceof Tensor ? this.inplace('scatter_.src', [dim, index, src]) : this.inplace('scatter_.value', [dim, index, src]);
  }

  toString(): string {
    return this.isDisposed ? 'Tensor(disposed)' : `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }
}

function cmp(name: string, a: Tensor, b: Tensor | Scalar): Tensor {
  return b instanceof Tensor ? callT(`${name}.Tensor`, [a, b]) : callT(`${name}.Scalar`, [a, b]);
}

const dtypes = new Set<string>(['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool']);
export function isDType(s: string): s is DType {
  return dtypes.has(s);
}

/** Wraps a native handle returned by the binding. */
export function wrapNative(h: NativeTensor): Tensor {
  return new Tensor(h);
}
