// Starting the ranks of a distributed test as child processes, with torchrun's variables.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../src/dist/launcher.js';
import { ROOT } from '../cli/helpers.js';

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
