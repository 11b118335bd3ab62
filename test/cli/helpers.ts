// Running the pix2pixhd command as a child process, as a user would.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts')];

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pix2pixhd ...args` to completion. */
export function cli(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [...ENTRY, ...args], { cwd: ROOT, encoding: 'utf-8', timeout: 300_000, env: { ...process.env, PIX2PIXHD_DEBUG: '', ...env } });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `pix2pixhd ...args` in the background (with extra environment variables); `done` resolves when it exits. */
export function cliAsync(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<CliResult & { signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [...ENTRY, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf-8').on('data', (d: string) => { stdout += d; });
  child.stderr!.setEncoding('utf-8').on('data', (d: string) => { stderr += d; });
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((res, rej) => {
    child.on('error', rej);
    child.on('close', (status, signal) => res({ status, signal, stdout, stderr }));
  });
  return { child, done };
}

export function tempDir(t: { after(fn: () => void): void }, prefix = 'p2phd-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The options of a tiny network on tiny scenes, used as they are (no resizing). */
export function tinyTrainArgs(dataroot: string, checkpoints: string, name: string): string[] {
  return ['--name', name, '--dataroot', dataroot, '--checkpoints_dir', checkpoints, '--label_nc', '35', '--resize_or_crop', 'none',
    '--ngf', '8', '--n_downsample_global', '2', '--n_blocks_global', '1', '--ndf', '8', '--num_D', '1', '--n_layers_D', '1', '--no_vgg_loss',
    '--display_freq', '0', '--no_html', '--nThreads', '1', '--threads', '1'];
}

/** An output stream for commands run in the test's own process: what they print is dropped. */
export const silentOutput = new Writable({ write: (_c, _e, cb) => cb() }) as unknown as NodeJS.WriteStream;
