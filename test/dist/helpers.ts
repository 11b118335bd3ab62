// Starting the ranks of a distributed test as child processes, with torchrun's variables.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../src/dist/launcher.js';
import { ROOT } from '../cli/helpers.js';
import assert from 'node:assert/strict';
import { noGrad, tidy, type nn, type Tensor } from '../../src/torch/index.js';

export interface RankResult { rank: number; status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs `node --import tsx script args` as ranks 0 … n-1 of one job on the loopback; resolves when all have ended. */
export async function runRanks(script: string, args: string[], n: number, env: Record<string, string> = {}, t?: { after(fn: () => void): void }): Promise<RankResult[]> {
  const port = await freePort();
  return Promise.all(Array.from({ length: n }, (_, rank) => new Promise<RankResult>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env, PIX2PIXHD_THREADS: '1', PIX2PIXHD_DEBUG: '', RANK: String(rank), WORLD_SIZE: String(n), LOCAL_RANK: String(rank),
        MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), ...env,
      },
    });
    t?.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf-8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf-8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ rank, status, signal, stdout, stderr }));
  })));
}

export const CLI_ENTRY = join(ROOT, 'src', 'cli', 'main.ts');

/**
 * The biases of convolutions that an InstanceNorm follows. The norm subtracts each channel's mean,
 * so they do not change the network's function and their exact gradient is zero: what backward
 * computes for them is rounding noise, which Adam (dividing by its root mean square) turns into
 * steps of ±lr in a direction that any change of summation order flips. They are compared through
 * the network's output instead (the second check below).
 */
export function biasesBeforeInstanceNorm(m: nn.Module, prefix = ''): Set<string> {
  const out = new Set<string>();
  const children = m.namedChildren();
  children.forEach(([name, child], i) => {
    const next = children[i + 1]?.[1];
    if (next && next.constructor.name === 'InstanceNorm2d' && child.namedParameters().some(([k]) => k === 'bias')) out.add(`${prefix}${name}.bias`);
    for (const k of biasesBeforeInstanceNorm(child, `${prefix}${name}.`)) out.add(k);
  });
  return out;
}

/** ‖a − b‖ / ‖b‖ over the tensors of two state dicts (but those left out). */
export function relativeL2(a: Map<string, Tensor>, b: Map<string, Tensor>, leaveOut = new Set<string>()): number {
  return noGrad(() => tidy(() => {
    let diff = 0;
    let norm = 0;
    for (const [k, tb] of b) {
      const ta = a.get(k);
      assert.ok(ta, `${k} in both`);
      if (tb.dtype !== 'float32' || leaveOut.has(k)) continue;
      diff += ta.sub(tb).square().sum().item();
      norm += tb.square().sum().item();
    }
    return Math.sqrt(diff / norm);
  }));
}

export function bitIdentical(a: Map<string, Tensor>, b: Map<string, Tensor>): string[] {
  const differ: string[] = [];
  for (const [k, tb] of b) {
    const ba = Buffer.from(a.get(k)!.toArray().buffer);
    if (!ba.equals(Buffer.from(tb.toArray().buffer))) differ.push(k);
  }
  return differ;
}

