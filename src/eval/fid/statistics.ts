// Activation statistics (mean and covariance of Inception features) and the Fréchet distance
// between two of them: pytorch-fid's calculate_activation_statistics and
// calculate_frechet_distance, with the matrix square root done by libtorch's symmetric eigen-
// solver instead of scipy.linalg.sqrtm.
//
// Why that gives pytorch-fid's number: FID needs only tr(sqrtm(Σ1·Σ2)). For covariance matrices
// (symmetric, positive semi-definite) Σ1·Σ2 is similar to M = Σ1^½·Σ2·Σ1^½
// (Σ1·Σ2 = Σ1^½·M·Σ1^-½ where Σ1 is invertible, and by continuity otherwise), so their eigenvalues
// are the same real, non-negative numbers λ_i, and tr(sqrtm(Σ1·Σ2)) = Σ_i √λ_i. M is symmetric,
// so two eigh calls (Σ1 for its square root, then M) in float64 give the λ_i stably; a 2048×2048
// pair takes seconds, not the minutes of a Schur-based sqrtm. Rounding can leave λ_i slightly
// negative where Σ1·Σ2 is singular (fewer images than dimensions); sqrtm then returns a small
// imaginary part, which pytorch-fid tolerates up to 1e-3 on the diagonal and drops. Here the same:
// a negative λ contributes 0 and one whose √|λ| exceeds 1e-3 is an error as there. pytorch-fid's
// offset retry (add eps·I to both covariances when sqrtm is not finite) is kept for non-finite sums.
import { callOp, noGrad, tensor, tidy, type Tensor } from '../../torch/index.js';
import { readNpz, writeNpz } from './npz.js';

export interface ActivationStatistics {
  /** Mean feature, length d. */
  mu: Float64Array;
  /** Covariance (unbiased, as np.cov), d×d row-major. */
  sigma: Float64Array;
  dims: number;
}

/** mu and sigma of features [N, d] (N ≥ 2), computed in float64 as numpy does for sigma. */
export function activationStatistics(features: Tensor): ActivationStatistics {
  const [n, d] = features.shape as [number, number];
  if (features.ndim !== 2 || n < 2) throw new Error(`statistics need at least 2 feature vectors, got shape [${features.shape.join(', ')}]`);
  return noGrad(() => tidy(() => {
    const x = features.to('float64');
    const mu = x.mean(0);
    const centred = x.sub(mu);
    const sigma = centred.transpose(0, 1).matmul(centred).div(n - 1);
    return { mu: mu.toArray() as Float64Array, sigma: sigma.toArray() as Float64Array, dims: d };
  }));
}

/** The Fréchet distance between two Gaussians: ‖μ1−μ2‖² + tr(Σ1) + tr(Σ2) − 2·tr(sqrtm(Σ1·Σ2)). */
export function frechetDistance(a: ActivationStatistics, b: ActivationStatistics, eps = 1e-6): number {
  if (a.dims !== b.dims) throw new Error(`the two statistics have different dimensions (${a.dims} and ${b.dims}): were they computed with the same --dims?`);
  const d = a.dims;
  let diff2 = 0;
  for (let i = 0; i < d; i++) diff2 += (a.mu[i]! - b.mu[i]!) ** 2;
  let trA = 0;
  let trB = 0;
  for (let i = 0; i < d; i++) {
    trA += a.sigma[i * d + i]!;
    trB += b.sigma[i * d + i]!;
  }
  let trCovmean = traceSqrtProduct(a.sigma, b.sigma, d, 0);
  if (!Number.isFinite(trCovmean)) trCovmean = traceSqrtProduct(a.sigma, b.sigma, d, eps);
  return diff2 + trA + trB - 2 * trCovmean;
}

/** tr(sqrtm((Σ1+εI)·(Σ2+εI))) through the symmetric form (see the top of this file). */
export function traceSqrtProduct(sigma1: Float64Array, sigma2: Float64Array, d: number, offset: number): number {
  return noGrad(() => tidy(() => {
    let s1 = tensor(sigma1, [d, d]);
    let s2 = tensor(sigma2, [d, d]);
    if (offset) {
      const eye = callOp('eye', [d, 'float64', null, null, null]) as Tensor;
      s1 = s1.add(eye.mul(offset));
      s2 = s2.add(eye.mul(offset));
    }
    const [l1, v1] = callOp('linalg_eigh', [s1, 'L']) as [Tensor, Tensor];
    const root1 = v1.mul(l1.clamp(0).sqrt()).matmul(v1.transpose(0, 1));
    const m = root1.matmul(s2).matmul(root1);
    // Symmetrise: rounding in the products leaves M a hair off symmetric.
    const sym = m.add(m.transpose(0, 1)).mul(0.5);
    const lambdas = (callOp('linalg_eigvalsh', [sym, 'L']) as Tensor).toArray() as Float64Array;
    let sum = 0;
    let worstImaginary = 0;
    for (const l of lambdas) {
      if (l >= 0) sum += Math.sqrt(l);
      else worstImaginary = Math.max(worstImaginary, Math.sqrt(-l));
    }
    if (!Number.isFinite(sum)) return NaN;
    if (worstImaginary > 1e-3) throw new Error(`Imaginary component ${worstImaginary} in the covariance product's square root (the statistics are not valid covariances)`);
    return sum;
  }));
}

/** Reads pytorch-fid's statistics file (np.savez with `mu` and `sigma`). */
export function loadStatistics(path: string): ActivationStatistics {
  const arrays = readNpz(path);
  const mu = arrays.get('mu');
  const sigma = arrays.get('sigma');
  if (!mu || !sigma) throw new Error(`${path} is not a statistics file: it needs arrays 'mu' and 'sigma' (found ${[...arrays.keys()].join(', ') || 'none'})`);
  const d = mu.data.length;
  if (sigma.shape.length !== 2 || sigma.shape[0] !== d || sigma.shape[1] !== d) {
    throw new Error(`${path}: sigma has shape (${sigma.shape.join(', ')}), expected (${d}, ${d}) for mu of length ${d}`);
  }
  return { mu: Float64Array.from(mu.data as number[]), sigma: Float64Array.from(sigma.data as number[]), dims: d };
}

/** Writes statistics as pytorch-fid's --save-stats does: mu as float32, sigma as float64. */
export function saveStatistics(path: string, s: ActivationStatistics): void {
  writeNpz(path, { mu: { shape: [s.dims], data: Float32Array.from(s.mu) }, sigma: { shape: [s.dims, s.dims], data: s.sigma } });
}
