// nn.Module: parameters, buffers and child modules owned by name, so state-dict keys fall out
// of the names exactly as in PyTorch (`model.1.weight`, `scale0_layer1.0.running_mean`).
import { noGrad } from '../autograd.js';
import { clearGrad } from '../optim/optimizer.js';
import { keep } from '../scope.js';
import { callOp, isDType, Tensor, type DType } from '../tensor.js';
import { addIndent } from './describe.js';
import type { RawTensor } from '../pth/index.js';
import { copyFromRaw } from '../serialization.js';

export type StateDict = Map<string, Tensor>;

export abstract class Module {
  training = true;
  readonly #params = new Map<string, Tensor | null>();
  readonly #buffers = new Map<string, Tensor | null>();
  readonly #children = new Map<string, Module>();

  /** Registers a trainable tensor (requires grad; exempt from tidy scopes). */
  protected registerParameter(name: string, t: Tensor | null): Tensor | null {
    if (t !== null) keep(t.requiresGrad_(true));
    this.#params.set(name, t);
    return t;
  }

  /** Registers a non-trainable tensor that belongs in the state dict (running statistics). */
  protected registerBuffer(name: string, t: Tensor | null): Tensor | null {
    if (t !== null) keep(t);
    this.#buffers.set(name, t);
    return t;
  }

  /** Registers a child module; its names are prefixed with `name.`. */
  registerModule<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  child(name: string): Module | undefined {
    return this.#children.get(name);
  }

  namedChildren(): [string, Module][] {
    return [...this.#children];
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this.#params) if (t !== null) out.push([prefix + n, t]);
    for (const [n, m] of this.#children) out.push(...m.namedParameters(`${prefix}${n}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this.#buffers) if (t !== null) out.push([prefix + n, t]);
    for (const [n, m] of this.#children) out.push(...m.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  /**
   * Parameters and buffers by key, in PyTorch's order (a module's own parameters, then its own
   * buffers, then each child's). The tensors are the module's own, not copies: don't dispose them.
   */
  stateDict(prefix = ''): StateDict {
    const out: StateDict = new Map();
    for (const [n, t] of this.#params) if (t !== null) out.set(prefix + n, t);
    for (const [n, t] of this.#buffers) if (t !== null) out.set(prefix + n, t);
    for (const [n, m] of this.#children) for (const [k, v] of m.stateDict(`${prefix}${n}.`)) out.set(k, v);
    return out;
  }

  /**
   * Copies values into the module's tensors. Strict by default: missing keys, unexpected keys and
   * shape mismatches are all listed in one error. `source` names where the values came from.
   */
  loadStateDict(values: ReadonlyMap<string, Tensor | RawTensor>, opts: { strict?: boolean; source?: string } = {}): { missing: string[]; unexpected: string[] } {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !values.has(k));
    const unexpected = [...values.keys()].filter((k) => !own.has(k));
    const mismatched: string[] = [];
    for (const [k, t] of own) {
      const v = values.get(k);
      if (v && v.shape.join(',') !== t.shape.join(',')) {
        mismatched.push(`${k}: checkpoint has [${v.shape.join(', ')}], the model has [${t.shape.join(', ')}]`);
      }
    }
    const problems: string[] = [];
    if (mismatched.length) problems.push(`shape mismatches:\n  ${mismatched.join('\n  ')}`);
    if (strict && missing.length) problems.push(`missing keys: ${missing.join(', ')}`);
    if (strict && unexpected.length) problems.push(`unexpected keys: ${unexpected.join(', ')}`);
    if (problems.length) {
      throw new Error(`loading a state dict${opts.source ? ` from ${opts.source}` : ''} into ${this.constructor.name} failed:\n${problems.join('\n')}`);
    }
    noGrad(() => {
      for (const [k, t] of own) {
        const v = values.get(k);
        // A raw tensor (as read from a .pth) is copied in directly: no engine tensor in between.
        if (v instanceof Tensor) t.copy_(v);
        else if (v) copyFromRaw(t, v);
      }
    });
    return { missing, unexpected };
  }

  /**
   * Converts every parameter and buffer in place to a dtype or a device, as PyTorch's module.to:
   * each tensor keeps its identity (its data is swapped, as `param.data = …`), so layers and
   * optimizers holding it see the change. A dtype applies to floating-point tensors only
   * (integer buffers such as num_batches_tracked stay as they are). Gradients are dropped.
   * Convert before creating optimizers: their state is not converted.
   */
  to(target: DType | string): this {
    const floating = new Set<DType>(['float32', 'float64', 'float16', 'bfloat16']);
    noGrad(() => {
      for (const t of this.stateDict().values()) {
        if (isDType(target) && !floating.has(t.dtype)) continue;
        t.grad = null;
        const converted = t.detach().to(target);
        try {
          callOp('set_data', [t, converted]);
        } finally {
          converted.dispose();
        }
      }
    });
    return this;
  }

  /** Sets training mode (dropout, batch-norm statistics) on this module and every descendant. */
  train(mode = true): this {
    this.training = mode;
    for (const m of this.#children.values()) m.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Turns gradient recording for every parameter on or off (freezing a sub-network). */
  requiresGrad_(value: boolean): this {
    for (const p of this.parameters()) p.requiresGrad_(value);
    return this;
  }

  /** Clears every parameter's gradient: zeroed in place, or dropped with `setToNone`. */
  zeroGrad(setToNone = false): void {
    for (const p of this.parameters()) clearGrad(p, setToNone);
  }

  /** Elements of every parameter, trainable or frozen (the official print_network's count). */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.numel, 0);
  }

  /** Each direct child's name and parameterCount(), in registration order. */
  childParameterCounts(): [string, number][] {
    return [...this.#children].map(([k, m]) => [k, m.parameterCount()]);
  }

  /**
   * The text inside this module's parentheses when printed (torch's `extra_repr`): its
   * constructor arguments in PyTorch's notation, e.g. `64, eps=1e-05, momentum=0.1`. Several
   * lines are allowed. Empty by default; layers override it.
   */
  extraRepr(): string {
    return '';
  }

  /** The name this module prints under (torch's `_get_name`): its class name by default. */
  reprName(): string {
    return this.constructor.name;
  }

  /**
   * The module as PyTorch's `print(module)` writes it: `Name(extra)` for a leaf, otherwise its
   * extraRepr lines and then each child as `(name): child`, indented two spaces per level.
   */
  describe(): string {
    const extra = this.extraRepr();
    const extraLines = extra ? extra.split('\n') : [];
    const childLines = [...this.#children].map(([k, m]) => `(${k}): ${addIndent(m.describe(), 2)}`);
    const lines = [...extraLines, ...childLines];
    let s = `${this.reprName()}(`;
    if (extraLines.length === 1 && childLines.length === 0) s += extraLines[0];
    else if (lines.length) s += `\n  ${lines.join('\n  ')}\n`;
    return `${s})`;
  }

  /** describe(), so that template strings and String(module) print the tree. */
  toString(): string {
    return this.describe();
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const t of this.stateDict().values()) t.dispose();
  }
}

/** A module with one tensor in and one tensor out: what Sequential chains. */
export abstract class Layer extends Module {
  abstract forward(x: Tensor): Tensor;
}
