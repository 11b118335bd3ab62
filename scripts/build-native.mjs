#!/usr/bin/env node
// Builds native/ (the libtorch binding) with cmake-js. libtorch is looked up in this order:
// $LIBTORCH (a LibTorch folder), the torch package of python3 (its cmake_prefix_path, when it
// ships TorchConfig.cmake), then the system (Debian's libtorch-dev).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function pythonTorchPrefix() {
  for (const python of ['python3', '/usr/bin/python3']) {
    try {
      const prefix = execFileSync(python, ['-c', 'import torch.utils; print(torch.utils.cmake_prefix_path)'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
      if (prefix && existsSync(join(prefix, 'Torch', 'TorchConfig.cmake'))) return prefix;
    } catch {
      // no python3, or no torch in it: try the next one
    }
  }
  return undefined;
}

const args = ['compile', '-d', 'native', '-O', 'native/build', '--parallel', String(Math.max(1, (await import('node:os')).availableParallelism()))];
if (process.env.LIBTORCH) {
  console.log(`libtorch: $LIBTORCH = ${process.env.LIBTORCH}`);
} else {
  const prefix = pythonTorchPrefix();
  if (prefix) {
    console.log(`libtorch: python3's torch at ${prefix}`);
    args.push(`--CDTORCH_PREFIX_PATH=${prefix}`);
  } else {
    console.log('libtorch: system (libtorch-dev)');
  }
}
const cmakeJs = join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
const result = spawnSync(process.execPath, [cmakeJs, ...args], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
