// Shared by the model and loss tests: the reference fixtures, a relative L2 error, a seeded JS
// random source, and a way to run Python's torch when it is installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dispose, loadTensorDict, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { randomSource } from '../../src/util/rng.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const FIXTURES = path.join(here, '..', 'fixtures', 'pix2pixhd-reference');

export interface Manifest {
  label_nc: number;
  train_trajectory: {
    losses: { G_GAN: number; G_GAN_Feat: number; D_real: number; D_fake: number }[];
    lr: number;
    betas: [number, number];
    lambda_feat: number;
  };
}
export const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf-8')) as Manifest;

/** The tensors of a fixture file; the caller disposes them (see withFixture). */
export function fixture(file: string): Map<string, Tensor> {
  return loadTensorDict(path.join(FIXTURES, file));
}

/** Runs fn with a fixture's tensors and frees them after. */
export function withFixture<T>(file: string, fn: (t: Map<string, Tensor>) => T): T {
  const t = fixture(file);
  try {
    return fn(t);
  } finally {
    dispose(t);
  }
}

export function get(map: ReadonlyMap<string, Tensor>, key: string): Tensor {
  const t = map.get(key);
  assert.ok(t, `missing tensor '${key}'`);
  return t;
}

/** ‖a − b‖ / ‖b‖, in float64. */
export function relL2(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape, 'shapes differ');
  return tidy(() => {
    const x = a.to('float64');
    const y = b.to('float64');
    return x.sub(y).norm().item() / y.norm().item();
  });
}

/** A small deterministic PRNG (the project's own, outside the engine), so test data does not come from the engine. */
export const rng = randomSource;

/** A float32 tensor of uniform values in [lo, hi) from the JS generator. */
export function uniform(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: n }, () => lo + (hi - lo) * r()), shape);
}

export const PY = '/usr/bin/python3';

/** Why the Python cross-checks cannot run here, or undefined when they can. */
export function pythonTorchMissing(): string | undefined {
  if (!fs.existsSync(PY)) return `${PY} not found`;
  const r = spawnSync(PY, ['-c', 'import torch'], { encoding: 'utf-8', timeout: 180_000 });
  if (r.status !== 0) return `python3 cannot import torch: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  return undefined;
}

/** Runs a Python script with arguments; returns the JSON printed on its last line. */
export function python(script: string, args: string[]): unknown {
  const r = spawnSync(PY, ['-c', script, ...args], { encoding: 'utf-8', timeout: 300_000, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `python failed:\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}
