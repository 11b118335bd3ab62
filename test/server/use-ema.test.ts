// serve --use_ema: the editor synthesises with the moving average of G's weights
// ({which}_net_G_ema.pth) instead of G, as test and eval do with the same option.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildGenerator } from '../../src/models/from-options.js';
import { saveCheckpoint } from '../../src/run/checkpoint.js';
import { encodeIds, fetchScene, makeTinyRun, startTinyServer, synthesizeRequest, type TinyRun } from './helpers.js';

async function synthesise(run: TinyRun, ema: boolean): Promise<Buffer> {
  const server = await startTinyServer(run, { ema });
  try {
    const scene = await fetchScene(server.url);
    const res = await synthesizeRequest(server.url, { width: scene.width, height: scene.height, label: encodeIds(scene.label), inst: encodeIds(scene.inst) });
    assert.equal(res.status, 200, await res.clone().text());
    return Buffer.from(await res.arrayBuffer());
  } finally {
    await server.close();
  }
}

test('serve --use_ema synthesises with latest_net_G_ema.pth, plain serve with latest_net_G.pth', async (t) => {
  const run = await makeTinyRun({ instanceFeat: false });
  t.after(() => run.cleanup());
  const before = await synthesise(run, false);
  // The run's G becomes its moving average; G itself gets other weights.
  copyFileSync(join(run.runDir, 'latest_net_G.pth'), join(run.runDir, 'latest_net_G_ema.pth'));
  const other = buildGenerator(run.network, 99);
  saveCheckpoint(run.runDir, 'latest', { G: other });
  other.dispose();
  const withEma = await synthesise(run, true);
  const withG = await synthesise(run, false);
  assert.ok(withEma.equals(before), 'the average\'s image is the image of the weights it holds');
  assert.ok(!withG.equals(before), 'without --use_ema the (new) G synthesises');
});
