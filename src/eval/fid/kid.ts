// The kernel inception distance (Bińkowski et al. 2018) as torch-fidelity computes it: the
// unbiased estimate of the squared MMD with the polynomial kernel k(x, y) = (x·y/d + 1)³, averaged
// over random subsets of both feature sets (defaults: 100 subsets of 1000, the subset size capped
// at the smaller set here, where torch-fidelity refuses). Subsets are drawn with the project's
// seeded generator, not numpy's, so with subsets smaller than the sets the figure differs from
// torch-fidelity's by sampling noise only; with the full sets (size = n) it is the same number.
import { callOp, noGrad, tensor, tidy, type Tensor } from '../../torch/index.js';
import { randomSource } from '../../util/rng.js';

export interface KidOptions {
  subsets?: number;
  subsetSize?: number;
  seed?: number;
}

export interface KernelInceptionDistance {
  mean: number;
  std: number;
  subsets: number;
  subsetSize: number;
}

/** Unbiased MMD² between two equally sized feature sets [m, d] (float64 inside). */
export function polynomialMmd2(x: Tensor, y: Tensor): number {
  return noGrad(() => tidy(() => {
    const a = x.to('float64');
    const b = y.to('float64');
    const m = a.size(0);
    const d = a.size(1);
    const k = (p: Tensor, q: Tensor) => p.matmul(q.transpose(0, 1)).div(d).add(1).pow(3);
    const kxx = k(a, a);
    const kyy = k(b, b);
    const kxy = k(a, b);
    const offDiagonal = (t: Tensor) => t.sum().item() - (callOp('trace', [t]) as Tensor).item();
    return (offDiagonal(kxx) + offDiagonal(kyy)) / (m * (m - 1)) - (2 * kxy.sum().item()) / (m * m);
  }));
}

/** KID between features [n1, d] and [n2, d]: mean and standard deviation over subsets. */
export function kernelInceptionDistance(f1: Tensor, f2: Tensor, opts: KidOptions = {}): KernelInceptionDistance {
  const n1 = f1.size(0);
  const n2 = f2.size(0);
  const subsetSize = Math.min(opts.subsetSize ?? 1000, n1, n2);
  if (subsetSize < 2) throw new Error(`KID needs at least 2 images on each side (got ${n1} and ${n2})`);
  const subsets = opts.subsets ?? 100;
  const rand = randomSource(opts.seed ?? 2020);
  const pick = (n: number): number[] => {
    // partial Fisher–Yates: a uniform subset without replacement
    const idx = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < subsetSize; i++) {
      const j = i + Math.floor(rand() * (n - i));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    return idx.slice(0, subsetSize);
  };
  const values: number[] = [];
  for (let s = 0; s < subsets; s++) {
    values.push(tidy(() => polynomialMmd2(
      f1.indexSelect(0, tensor(BigInt64Array.from(pick(n1), BigInt), [subsetSize])),
      f2.indexSelect(0, tensor(BigInt64Array.from(pick(n2), BigInt), [subsetSize])),
    )));
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
  return { mean, std, subsets, subsetSize };
}
