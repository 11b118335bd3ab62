// Shared by the engine's tests: a seeded JS random source, closeness assertions, plain-JS
// reference convolutions, a finite-difference gradient checker, and the list of ops a call ran.
// Nothing here computes its expectations with the engine under test.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { native } from '../../src/torch/native.js';
import { randomSource } from '../../src/util/rng.js';

/** A small deterministic PRNG (the project's own, outside the engine), so test data does not come from the engine. */
export const rng = randomSource;

/** n uniform values in [lo, hi), rounded to float32 so float32 and float64 inputs agree exactly. */
export function randomValues(n: number, seed: number, lo = -1, hi = 1): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.fround(lo + (hi - lo) * r()));
}

export const prod = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: { atol?: number; rtol?: number } = {}, what = 'values'): void {
  const atol = tol.atol ?? 1e-6;
  const rtol = tol.rtol ?? 1e-5;
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${what}[${i}]: got ${a}, expected NaN`);
      continue;
    }
    const ok = Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) assert.fail(`${what}[${i}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${atol} + ${rtol}·|expected|)`);
  }
}

/** The tensor's elements as numbers (and its shape checked, when given). */
export function values(t: Tensor, shape?: readonly number[]): number[] {
  if (shape) assert.deepEqual(t.shape, [...shape], 'shape');
  return t.toNumbers();
}

type Pair = [number, number];
export interface ConvRefOpts { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number }

/** Direct-loop 2-D cross-correlation over NCHW with weight [out, in/groups, kh, kw]. */
export function conv2dRef(
  x: readonly number[], xs: readonly number[], w: readonly number[], ws: readonly number[], b: readonly number[] | null, o: ConvRefOpts = {},
): { data: number[]; shape: number[] } {
  const [N, C, H, W] = xs as [number, number, number, number];
  const [O, Cg, KH, KW] = ws as [number, number, number, number];
  const [sh, sw] = o.stride ?? [1, 1];
  const [ph, pw] = o.padding ?? [0, 0];
  const [dh, dw] = o.dilation ?? [1, 1];
  const G = o.groups ?? 1;
  assert.equal(Cg * G, C, 'conv2dRef: channel count');
  const OH = Math.floor((H + 2 * ph - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (KW - 1) - 1) / sw) + 1;
  const Og = O / G;
  const out = new Array<number>(N * O * OH * OW).fill(0);
  for (let n = 0; n < N; n++) for (let oc = 0; oc < O; oc++) {
    const g = Math.floor(oc / Og);
    for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
      let acc = b ? b[oc]! : 0;
      for (let ci = 0; ci < Cg; ci++) {
        const c = g * Cg + ci;
        for (let ky = 0; ky < KH; ky++) for (let kx = 0; kx < KW; kx++) {
          const iy = oy * sh - ph + ky * dh;
          const ix = ox * sw - pw + kx * dw;
          if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
          acc += x[((n * C + c) * H + iy) * W + ix]! * w[((oc * Cg + ci) * KH + ky) * KW + kx]!;
        }
      }
      out[((n * O + oc) * OH + oy) * OW + ox] = acc;
    }
  }
  return { data: out, shape: [N, O, OH, OW] };
}

/** Direct-loop transposed convolution with weight [in, out/groups, kh, kw]: scatter each input pixel. */
export function convTranspose2dRef(
  x: readonly number[], xs: readonly number[], w: readonly number[], ws: readonly number[], b: readonly number[] | null,
  o: ConvRefOpts & { outputPadding?: Pair } = {},
): { data: number[]; shape: number[] } {
  const [N, C, H, W] = xs as [number, number, number, number];
  const [Cw, Og, KH, KW] = ws as [number, number, number, number];
  assert.equal(Cw, C, 'convTranspose2dRef: channel count');
  const [sh, sw] = o.stride ?? [1, 1];
  const [ph, pw] = o.padding ?? [0, 0];
  const [dh, dw] = o.dilation ?? [1, 1];
  const [oph, opw] = o.outputPadding ?? [0, 0];
  const G = o.groups ?? 1;
  const Cg = C / G;
  const O = Og * G;
  const OH = (H - 1) * sh - 2 * ph + dh * (KH - 1) + oph + 1;
  const OW = (W - 1) * sw - 2 * pw + dw * (KW - 1) + opw + 1;
  const out = new Array<number>(N * O * OH * OW).fill(0);
  for (let n = 0; n < N; n++) {
    for (let oc = 0; oc < O; oc++) for (let i = 0; i < OH * OW; i++) out[(n * O + oc) * OH * OW + i] = b ? b[oc]! : 0;
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / Cg);
      for (let iy = 0; iy < H; iy++) for (let ix = 0; ix < W; ix++) {
        const v = x[((n * C + c) * H + iy) * W + ix]!;
        for (let oj = 0; oj < Og; oj++) for (let ky = 0; ky < KH; ky++) for (let kx = 0; kx < KW; kx++) {
          const oy = iy * sh - ph + ky * dh;
          const ox = ix * sw - pw + kx * dw;
          if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
          const oc = g * Og + oj;
          out[((n * O + oc) * OH + oy) * OW + ox]! += v * w[((c * Og + oj) * KH + ky) * KW + kx]!;
        }
      }
    }
  }
  return { data: out, shape: [N, O, OH, OW] };
}

/** Instance normalisation of NCHW data in plain JS (biased variance, as PyTorch). */
export function instanceNormRef(x: readonly number[], xs: readonly number[], eps = 1e-5, weight?: readonly number[], bias?: readonly number[]): number[] {
  const [N, C, H, W] = xs as [number, number, number, number];
  const P = H * W;
  const out = new Array<number>(x.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
    const base = (n * C + c) * P;
    let mean = 0;
    for (let i = 0; i < P; i++) mean += x[base + i]!;
    mean /= P;
    let v = 0;
    for (let i = 0; i < P; i++) v += (x[base + i]! - mean) ** 2;
    v /= P;
    const inv = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < P; i++) out[base + i] = (x[base + i]! - mean) * inv * (weight ? weight[c]! : 1) + (bias ? bias[c]! : 0);
  }
  return out;
}

export interface GradInput { data: number[]; shape: number[] }

/**
 * Checks the engine's gradients of `fn` against central finite differences, in float64.
 * The scalar checked is sum(fn(inputs) · R) for a fixed random R, so every output element
 * contributes with its own weight (a vector-Jacobian product). Returns the worst error seen.
 */
export function gradCheck(
  fn: (inputs: Tensor[]) => Tensor,
  inputs: GradInput[],
  opts: { eps?: number; atol?: number; rtol?: number; seed?: number; check?: number[] } = {},
): number {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  const check = opts.check ?? inputs.map((_, i) => i);
  return tidy(() => {
    const leaves = inputs.map((inp) => tensor(inp.data, inp.shape, { dtype: 'float64' }).requiresGrad_(true));
    const out = fn(leaves);
    assert.equal(out.dtype, 'float64', 'gradCheck: fn must keep float64');
    const R = tensor(randomValues(out.numel, opts.seed ?? 99), out.shape, { dtype: 'float64' });
    out.mul(R).sum().backward();
    const analytic = leaves.map((l) => (l.grad ? l.grad.toNumbers() : null));
    const f = (datas: number[][]): number => tidy(() => noGrad(() => {
      const ts = datas.map((d, i) => tensor(d, inputs[i]!.shape, { dtype: 'float64' }));
      return fn(ts).mul(R).sum().item();
    }));
    let worst = 0;
    for (const i of check) {
      const a = analytic[i];
      assert.ok(a, `gradCheck: input ${i} received no gradient`);
      const datas = inputs.map((inp) => [...inp.data]);
      for (let j = 0; j < inputs[i]!.data.length; j++) {
        const orig = datas[i]![j]!;
        datas[i]![j] = orig + eps;
        const fp = f(datas);
        datas[i]![j] = orig - eps;
        const fm = f(datas);
        datas[i]![j] = orig;
        const numeric = (fp - fm) / (2 * eps);
        const err = Math.abs(a[j]! - numeric);
        worst = Math.max(worst, err);
        if (err > atol + rtol * Math.abs(numeric)) {
          assert.fail(`gradCheck: d/d input${i}[${j}]: analytic ${a[j]}, numeric ${numeric} (|diff| ${err})`);
        }
      }
    }
    return worst;
  });
}

/** The Chrome trace (as text: the names of the ATen ops and native kernels) of what `fn` ran, from libtorch's profiler. */
export function opsRun(fn: () => void): string {
  const trace = join(tmpdir(), `ops-run-${process.pid}.json`);
  native.profileStart(trace);
  try {
    fn();
  } finally {
    native.profileStop();
  }
  const names = readFileSync(trace, 'utf8');
  rmSync(trace);
  return names;
}
