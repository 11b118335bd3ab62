// Activation checkpointing (torch.utils.checkpoint): a segment of the forward pass runs without
// recording its graph, so none of its intermediate activations stay alive until the backward; only
// its input is kept. The backward recomputes the segment from that input with the graph on and
// back-propagates the incoming gradient through it. Memory then holds one segment's activations at
// a time instead of all of them, for one extra forward of each segment.
//
// Why not a custom autograd node that recomputes inside the engine (what PyTorch's reentrant
// checkpoint does): the segment's forward is TypeScript, and the engine runs the nodes of CUDA
// tensors on its own device threads, where JavaScript cannot be called. So the backward is driven
// from here instead, portion by portion, on the JS thread, for any device: each segment's output
// is a fresh leaf of the recorded graph; back-propagating the loss stops at those leaves and
// leaves their gradients; then the segments are recomputed and back-propagated newest first, each
// handing its input's gradient on to the graph (or the segment) it came from.
import { backward, isGradEnabled, noGrad } from './autograd.js';
import { keep, tidy } from './scope.js';
import { callOp, type Tensor } from './tensor.js';

interface Segment {
  /** null: the recorded forward's own input, cut from the graph that made it (see record). */
  fn: ((x: Tensor) => Tensor) | null;
  /** An alias of the segment's input that carries the input's graph (owned here). */
  input: Tensor;
  /** The leaf the rest of the forward continued from: its gradient is the segment's output gradient. */
  output: Tensor;
  params: readonly Tensor[];
  /** The output's gradient, summed over the backward portions that reached it. */
  grad: Tensor | null;
}

let recording: Recomputation | null = null;

/**
 * Runs `fn(x)` as a checkpointed segment when a Recomputation is recording (and gradients are on),
 * plainly otherwise. `params` are the parameters fn uses, used by nothing outside fn: their
 * gradients are complete once the segment's recomputed backward is done. fn must compute the same
 * values when run twice: no random numbers (dropout), no state it updates (batch norm's running
 * statistics).
 */
export function checkpoint(fn: (x: Tensor) => Tensor, x: Tensor, params: readonly Tensor[]): Tensor {
  const r = recording;
  if (r === null || !isGradEnabled()) return fn(x);
  return r.segment(fn, x, params);
}

/** Whether a Recomputation is recording now (for layers that must refuse to be recomputed). */
export function isRecomputing(): boolean {
  return recording !== null && isGradEnabled();
}

/** What a backward through the recorded segments hands to `onGrad`: as autograd.backward's options. */
export interface RecomputedBackwardOptions {
  inputs?: readonly Tensor[];
  onGrad?: (index: number, grad: Tensor) => void;
}

/**
 * The segments of one forward pass and the backward through them. `context` wraps each
 * recomputation (the forward's autocast region, so the recomputed segment runs the same kernels).
 * Not supported: a tensor made before a segment and used again after it (a connection around the
 * segment: the backward of the later part frees the graph the segment's input still needs), a
 * clear error in the backward; G's residual blocks keep their connection inside the segment.
 */
export class Recomputation {
  #segments: Segment[] = [];

  constructor(private readonly context: <T>(fn: () => T) => T = (fn) => fn()) {}

  /**
   * Runs fn (a forward pass) on `input` with every checkpoint() inside it recorded here. When the
   * input has a graph of its own (an encoder's features), fn sees it cut from that graph, and the
   * backward hands the input's whole gradient to that graph once, at the end: back-propagating
   * it piecewise from each portion that reaches it would sum the same terms in another order
   * (and free the graph the next portion needs).
   */
  record<T>(input: Tensor, fn: (input: Tensor) => T): T {
    const previous = recording;
    recording = this;
    try {
      return fn(this.#cut(input));
    } finally {
      recording = previous;
    }
  }

  #cut(x: Tensor): Tensor {
    if (!x.requiresGrad || !isGradEnabled()) return x;
    const output = keep(x.detach()).requiresGrad_(true);
    const input = keep(callOp('alias', [x]) as Tensor);
    this.#segments.push({ fn: null, input, output, params: [], grad: null });
    return callOp('alias', [output]) as Tensor;
  }

  /** How many segments are waiting for a backward. */
  get size(): number {
    return this.#segments.length;
  }

  /** checkpoint() while recording: fn's output without its graph, as a leaf the backward recomputes. */
  segment(fn: (x: Tensor) => Tensor, x: Tensor, params: readonly Tensor[]): Tensor {
    const trainable = params.filter((p) => p.requiresGrad);
    // Nothing in or before the segment trains: there is no graph to save, so nothing to recompute.
    if (!x.requiresGrad && trainable.length === 0) return fn(x);
    const output = keep(noGrad(() => fn(x)));
    output.requiresGrad_(true);
    // Own handles: the caller's scopes free theirs (x, and what is returned) when the forward ends.
    const input = keep(callOp('alias', [x]) as Tensor);
    this.#segments.push({ fn, input, output, params: trainable, grad: null });
    return callOp('alias', [output]) as Tensor;
  }

  /**
   * autograd.backward through the recorded forward (then the recording is empty). With `onGrad`
   * (an optimizer updating inside the backward, see Optimizer.backwardAndStep) a segment's
   * parameters are handed over as soon as its recomputed backward is done (they are the large
   * ones); every other input's gradient may come from several portions, so it is summed and
   * handed over at the end, once complete. No retained graph: the recomputed graphs are gone.
   */
  backward(outputs: readonly Tensor[], grads?: readonly Tensor[] | null, opts: RecomputedBackwardOptions & { retainGraph?: boolean } = {}): void {
    if (opts.retainGraph) throw new Error('a backward through recomputed segments cannot retain the graph: each segment\'s graph is rebuilt and freed once');
    const segments = this.#segments;
    this.#segments = [];
    const userInputs = opts.inputs ?? null;
    const { onGrad } = opts;
    const owner = new Map<Tensor, Segment>();
    for (const s of segments) for (const p of s.params) owner.set(p, s);
    const deferred = new Map<number, Tensor>();
    try {
      // One portion: backward from `from` with `fromGrads`, into the user's inputs, the outputs
      // of the segments not yet recomputed, and `extra` (a recomputed segment's input).
      const portion = (
        from: readonly Tensor[], fromGrads: readonly Tensor[] | null, pending: readonly Segment[],
        current: Segment | null, extra: Tensor | null, retainGraph = false,
      ): Tensor | null => {
        const leaves = pending.map((s) => s.output);
        let extraGrad: Tensor | null = null;
        // A gradient handed to onGrad is released when the callback returns: hold our own handle.
        const own = (g: Tensor) => keep(g.detach());
        const take = (leaf: number, g: Tensor) => {
          if (leaf < leaves.length) {
            const s = pending[leaf]!;
            const sum = s.grad;
            s.grad = sum === null ? own(g) : keep(noGrad(() => sum.add(g)));
            sum?.dispose();
          } else {
            extraGrad = own(g);
          }
        };
        if (userInputs === null || !onGrad) {
          const all = userInputs === null ? undefined : [...userInputs, ...leaves, ...(extra ? [extra] : [])];
          backward(from, fromGrads, { inputs: all, retainGraph });
          [...leaves, ...(extra ? [extra] : [])].forEach((leaf, k) => {
            const g = leaf.grad;
            if (g !== null) {
              leaf.grad = null;
              take(k, g);
            }
          });
          return extraGrad;
        }
        const n = userInputs.length;
        backward(from, fromGrads, {
          retainGraph,
          inputs: [...userInputs, ...leaves, ...(extra ? [extra] : [])],
          onGrad: (i, g) => {
            if (i >= n) return take(i - n, g);
            const p = userInputs[i]!;
            const home = owner.get(p);
            if (home !== undefined) {
              if (home !== current) throw new Error(`recomputation: parameter ${i} belongs to a checkpointed segment but received a gradient outside it (a parameter shared with the rest of the network cannot be checkpointed)`);
              onGrad(i, g);
              return;
            }
            const sum = deferred.get(i);
            deferred.set(i, sum === undefined ? own(g) : keep(noGrad(() => sum.add(g))));
            sum?.dispose();
          },
        });
        return extraGrad;
      };

      // A segment's input gradient goes on into the graph that made the input (through its alias).
      // `retainGraph`: that graph may be shared with an older segment's input (two segments fed
      // from one tensor), which must still find it; what only this input holds is freed when the
      // alias is disposed, just after.
      const intoInputGraph = (s: Segment, grad: Tensor, pending: readonly Segment[], retainGraph: boolean) => {
        try {
          portion([s.input], [grad], pending, null, null, retainGraph);
        } catch (e) {
          // The engine's own message would point at retain_graph, which is not the way out here.
          if (!/backward through the graph a second time/.test((e as Error).message)) throw e;
          throw new Error('recomputation: a tensor made before a checkpointed segment is also used after it (a connection around the segment), whose graph the backward of the later part has already freed; checkpoint the whole span it skips, or nothing inside it');
        }
      };

      portion(outputs, grads ?? null, segments, null, null);
      for (let k = segments.length - 1; k >= 0; k--) {
        const s = segments[k]!;
        const pending = segments.slice(0, k);
        if (s.grad === null) continue; // The output did not reach the loss.
        if (s.fn === null) {
          intoInputGraph(s, s.grad, pending, false);
          disposeSegment(s);
          continue;
        }
        const fn = s.fn;
        tidy(() => {
          const x = s.input.detach();
          if (s.input.requiresGrad) x.requiresGrad_(true);
          const y = this.context(() => fn(x));
          const dx = portion([y], [s.grad!], pending, s, x.requiresGrad ? x : null);
          if (dx !== null && s.input.requiresGrad) intoInputGraph(s, dx, pending, true);
          (dx as Tensor | null)?.dispose();
          disposeSegment(s);
        });
      }
      if (onGrad) for (const [i, g] of deferred) tidy(() => onGrad(i, g));
    } finally {
      for (const g of deferred.values()) g.dispose();
      for (const s of segments) disposeSegment(s);
    }
  }

  /** Frees what a forward recorded without a backward (an interrupted step). */
  clear(): void {
    for (const s of this.#segments) disposeSegment(s);
    this.#segments = [];
  }
}

function disposeSegment(s: Segment): void {
  s.input.dispose();
  s.output.dispose();
  s.grad?.dispose();
  s.grad = null;
}
