// Finds Debian's (or any) python3 with torch, for benchmarks that compare against PyTorch itself.
import { execFileSync } from 'node:child_process';

export function pythonWithTorch(): string | undefined {
  for (const python of [process.env.PYTHON ?? '', '/usr/bin/python3', 'python3'].filter(Boolean)) {
    try {
      execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
      return python;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** Runs a Python script and parses the JSON object it prints on its last line. */
export function runPythonJson(python: string, script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Record<string, unknown> {
  const out = execFileSync(python, ['-c', script, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
