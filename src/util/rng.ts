// The one seeded PRNG for everything random outside libtorch: shuffles, crops, flips, synthetic
// scenes, the image pool, k-means seeding, style choices. Math.random cannot be seeded, and a run
// must be reproducible from its --seed (a resumed run repeats the same choices without saving
// generator state).
//
// Streams are derived, not shared: each (seed, purpose, epoch, position) gets its own generator, so
// the numbers an item gets do not depend on how many items were decoded before it or in which order
// the prefetcher happened to start them.

/** Mixes 32-bit words into one well-spread 32-bit seed (a splitmix32-style finaliser per word). */
export function deriveSeed(...parts: ReadonlyArray<number | string>): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    const words = typeof part === 'string' ? stringWords(part) : numberWords(part);
    for (const w of words) {
      h = Math.imul(h ^ w, 0x85ebca6b) >>> 0;
      h = mix32((h + 0x9e3779b9) >>> 0);
    }
  }
  return h >>> 0;
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

function numberWords(n: number): number[] {
  if (!Number.isFinite(n)) throw new Error(`seed parts must be finite numbers, got ${n}`);
  const hi = Math.floor(n / 2 ** 32);
  return [n >>> 0, hi >>> 0];
}

function stringWords(s: string): number[] {
  const out = [s.length];
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
  return out;
}

/** A uniform [0, 1) source as a plain function, for code that only needs that. */
export type Random = () => number;

export function randomSource(seed: number): Random {
  const rng = new Rng(seed);
  return () => rng.float();
}

/** xoshiro128** seeded through splitmix32: fast, 2^128 period, good enough for augmentation. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      return mix32(x);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  float(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform in [lo, hi) as a float. */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Uniform integer in [lo, hi], both ends included (Python's random.randint). */
  int(lo: number, hi: number): number {
    if (hi < lo) throw new Error(`Rng.int: empty range [${lo}, ${hi}]`);
    const span = hi - lo + 1;
    if (span > 4294967296) throw new Error('Rng.int: range wider than 2^32');
    // Rejection sampling keeps the distribution exactly uniform.
    const limit = 4294967296 - (4294967296 % span);
    let r = this.uint32();
    while (r >= limit) r = this.uint32();
    return lo + (r % span);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty array');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): number[] {
    const out = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = out[i] as number;
      out[i] = out[j] as number;
      out[j] = t;
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
