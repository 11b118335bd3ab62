// The memory estimate printed before training, against the peak a real training step reaches: two
// iterations (G, D, VGG loss, Adam) in a child process of their own, whose resident-memory
// high-water mark above its start (the runtime: Node and libtorch's code) is what the estimate
// must predict. Two configurations, so that neither the parameter part (ngf) nor the activation
// part (image size) can be off without one of them showing it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const child = join(dirname(fileURLToPath(import.meta.url)), 'memory-peak-child.ts');
const MB = 2 ** 20;

for (const [ngf, w, h] of [[8, 384, 192], [16, 256, 128]] as const) {
  test(`the estimate is within 25% of the measured peak: local G ngf ${ngf}, ${w}×${h}, VGG loss`, (t) => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', child, '--ngf', String(ngf), '--w', String(w), '--h', String(h)], { encoding: 'utf8', timeout: 600_000 });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { baseline: number; peak: number; estimate: number };
    const measured = r.peak - r.baseline;
    const ratio = measured / r.estimate;
    t.diagnostic(`measured ${(measured / MB).toFixed(0)} MB, estimated ${(r.estimate / MB).toFixed(0)} MB: ratio ${ratio.toFixed(2)}`);
    assert.ok(Math.abs(ratio - 1) <= 0.25, `measured ${(measured / MB).toFixed(0)} MB, estimated ${(r.estimate / MB).toFixed(0)} MB (ratio ${ratio.toFixed(2)})`);
  });
}
