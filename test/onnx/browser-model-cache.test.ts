// The editor's cached export: made on first request, reused while the checkpoint is older, and
// replaced when the checkpoint is newer or the cached model was exported for other inputs.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { exportGenerator, layoutFromMetadata, readMetadataProps } from '../../src/onnx/index.js';
import { saveCheckpoint } from '../../src/run/index.js';
import { netPath } from '../../src/run/checkpoint.js';
import { BrowserModel } from '../../src/server/browser-model.js';
import { randomGenerator, smallNetwork } from './helpers.js';

test('the cached model is exported once, reused, and replaced when stale or for other inputs', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'p2phd-browser-model-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const runDir = join(root, 'run');
  mkdirSync(runDir);
  const network = smallNetwork({ label_nc: 9 });
  const G = randomGenerator(network);
  saveCheckpoint(runDir, 'latest', { G });
  G.dispose();
  const cache = join(root, 'cache');
  const model = new BrowserModel({ network, dir: runDir, which_epoch: 'latest', name: 'run' }, cache);

  const file = await model.file();
  assert.equal(file, join(cache, 'latest_net_G.onnx'));
  assert.equal(layoutFromMetadata(readMetadataProps(readFileSync(file)))?.label_nc, 9);
  const first = statSync(file).mtimeMs;
  assert.equal(await model.file(), file);
  assert.equal(statSync(file).mtimeMs, first, 'reused, not exported again');

  // A newer checkpoint: exported again.
  const later = new Date(first + 10_000);
  utimesSync(netPath(runDir, 'latest', 'G'), later, later);
  await model.file();
  assert.ok(statSync(file).mtimeMs > first, 're-exported after the checkpoint changed');

  // A cached model for label_nc 7 (another run's, say) is replaced by a fresh server.
  const other = randomGenerator(smallNetwork({ label_nc: 7 }));
  writeFileSync(file, exportGenerator(other, smallNetwork({ label_nc: 7 })));
  other.dispose();
  const future = new Date(Date.now() + 60_000);
  utimesSync(file, future, future);
  const fresh = new BrowserModel({ network, dir: runDir, which_epoch: 'latest', name: 'run' }, cache);
  await fresh.file();
  assert.equal(layoutFromMetadata(readMetadataProps(readFileSync(file)))?.label_nc, 9, 'the run\'s own model again');
});
