// The built-in one-machine launcher (`pix2pixhd train --nproc_per_node N …`), torchrun's job for
// one node: picks a free rendezvous port on the loopback, starts N copies of this command with
// torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT),
// forwards the signals it receives to them, stops every rank when one fails, and ends with the
// failing rank's status (128 + the signal's number for a rank killed by a signal, as shells do).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { constants } from 'node:os';

export interface LaunchOptions {
  nproc: number;
  /** The command line each rank runs (after node and its flags): the script and its arguments. */
  args: string[];
  /** node's own flags for the ranks (default: this process's, e.g. tsx's --import). */
  nodeArgs?: string[];
  /** Seconds a rank is given to stop after SIGTERM before it is killed. */
  graceSeconds?: number;
  log?: (text: string) => void;
}

/** A port nothing listens on now (the OS picks it), for the rendezvous store. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** The command line without the launcher's own option (`--nproc_per_node N` or `--nproc_per_node=N`). */
export function withoutLauncherOptions(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--nproc_per_node') { i++; continue; }
    if (a.startsWith('--nproc_per_node=')) continue;
    out.push(a);
  }
  return out;
}

function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return 128 + (constants.signals[signal] ?? 0);
  return code ?? 1;
}

export interface LaunchResult {
  /** 0 when every rank succeeded, else the first failing rank's status. */
  status: number;
  /** The first rank that failed, and how. */
  failure: { rank: number; status: number; how: string } | null;
}

/** Runs the ranks to the end. */
export async function launchRanks(opts: LaunchOptions): Promise<LaunchResult> {
  const log = opts.log ?? ((t: string) => process.stderr.write(t + '\n'));
  const port = await freePort();
  const children: ChildProcess[] = [];
  let failure: LaunchResult['failure'] = null;
  let graceTimer: NodeJS.Timeout | null = null;
  const running = new Set<number>();

  const stopOthers = () => {
    for (const r of running) children[r]!.kill('SIGTERM');
    graceTimer = setTimeout(() => { for (const r of running) children[r]!.kill('SIGKILL'); }, (opts.graceSeconds ?? 10) * 1000);
    graceTimer.unref();
  };
  const forward = (signal: NodeJS.Signals) => () => {
    log(`launcher: ${signal} received, passed on to the ${running.size} running rank${running.size === 1 ? '' : 's'}`);
    for (const r of running) children[r]!.kill(signal);
  };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);

  const ended = Array.from({ length: opts.nproc }, (_, rank) => new Promise<void>((resolve) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? process.execArgv), ...opts.args], {
      stdio: 'inherit',
      env: {
        ...process.env, RANK: String(rank), WORLD_SIZE: String(opts.nproc), LOCAL_RANK: String(rank),
        LOCAL_WORLD_SIZE: String(opts.nproc), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port),
      },
    });
    children[rank] = child;
    running.add(rank);
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      if (!running.delete(rank)) return;
      const status = exitStatus(code, signal);
      if (status !== 0 && failure === null) {
        const how = signal ? `was killed by ${signal}` : `exited with status ${status}`;
        failure = { rank, status, how };
        log(`launcher: rank ${rank} (pid ${child.pid}) ${how}; stopping the other ranks`);
        stopOthers();
      }
      resolve();
    };
    child.on('exit', done);
    child.on('error', (e) => { log(`launcher: rank ${rank} could not start: ${e.message}`); done(1, null); });
  }));
  await Promise.all(ended);
  if (graceTimer) clearTimeout(graceTimer);
  for (const [s, h] of handlers) process.off(s, h);
  const f = failure as LaunchResult['failure'];
  return { status: f ? f.status : 0, failure: f };
}
