// The memory estimate printed before training, against the peak a real training step reaches: two
// iterations (G, D, VGG loss, Adam) in a child process of their own, whose resident-memory
// high-water mark above its start (the runtime: Node and libtorch's code) is what the estimate
// must predict. Two configurations, so that neither the parameter part (ngf) nor the activation
// part (image size) can be off without one of them showing it; and the memory savers
// (--recompute_blocks, --D_real_first), whose saving the estimate must predict as well as the
// peak they leave.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const child = join(dirname(fileURLToPath(import.meta.url)), 'memory-peak-child.ts');
const MB = 2 ** 20;

/** Peak resident memory above the runtime, and the estimate, of two iterations with these options. */
function measure(t: TestContext, args: string[]): { measured: number; estimate: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', child, ...args], { encoding: 'utf8', timeout: 600_000 });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { baseline: number; peak: number; estimate: number };
  const measured = r.peak - r.baseline;
  t.diagnostic(`${args.join(' ')}: measured ${(measured / MB).toFixed(0)} MB, estimated ${(r.estimate / MB).toFixed(0)} MB: ratio ${(measured / r.estimate).toFixed(2)}`);
  return { measured, estimate: r.estimate };
}

function assertWithin25(m: { measured: number; estimate: number }): void {
  const ratio = m.measured / m.estimate;
  assert.ok(Math.abs(ratio - 1) <= 0.25, `measured ${(m.measured / MB).toFixed(0)} MB, estimated ${(m.estimate / MB).toFixed(0)} MB (ratio ${ratio.toFixed(2)})`);
}

for (const [ngf, w, h] of [[8, 384, 192], [16, 256, 128]] as const) {
  test(`the estimate is within 25% of the measured peak: local G ngf ${ngf}, ${w}×${h}, VGG loss`, (t) => {
    assertWithin25(measure(t, ['--ngf', String(ngf), '--w', String(w), '--h', String(h)]));
  });
}

// Nine enhancer blocks and no VGG loss, so that the blocks are a third of the activations and
// their saving stands well above the run-to-run noise of a resident-memory peak (a few percent).
// D's real pass alone saves too little here to be told from that noise; with the blocks it adds
// to a saving that can.
test('--recompute_blocks, and with --D_real_first, lower the measured peak by what the estimate predicts (2/3 to 1.5 of it); the estimates are within 25% of the peaks', (t) => {
  const args = ['--ngf', '16', '--n_downsample_global', '2', '--n_blocks_local', '9', '--no_vgg_loss', '--w', '512', '--h', '256'];
  const kept = measure(t, args);
  assertWithin25(kept);
  for (const savers of [['--recompute_blocks'], ['--recompute_blocks', '--D_real_first']]) {
    const lower = measure(t, [...args, ...savers]);
    assertWithin25(lower);
    const saved = kept.measured - lower.measured;
    const predicted = kept.estimate - lower.estimate;
    t.diagnostic(`${savers.join(' ')}: saved ${(saved / MB).toFixed(0)} MB, predicted ${(predicted / MB).toFixed(0)} MB`);
    assert.ok(predicted > 0.15 * kept.estimate, 'the configuration is one where the savers matter');
    assert.ok(saved >= (2 / 3) * predicted && saved <= 1.5 * predicted, `${savers.join(' ')}: saved ${(saved / MB).toFixed(0)} MB, predicted ${(predicted / MB).toFixed(0)} MB`);
  }
});

// The VGG loss's recomputation on top of the other savers: what it saves is what the estimate
// predicts. (Before the caching CPU allocator glibc's heap kept the freed VGG activations in
// fragments, and the resident peak fell by 25 of 168 MB predicted; the allocator maps only what
// is in use.)
test('--recompute_vgg lowers the measured peak by what the estimate predicts (2/3 to 1.5 of it)', (t) => {
  const args = ['--ngf', '16', '--w', '512', '--h', '256', '--recompute_blocks', '--D_real_first'];
  const kept = measure(t, args);
  const lower = measure(t, [...args, '--recompute_vgg']);
  assertWithin25(lower);
  const saved = kept.measured - lower.measured;
  const predicted = kept.estimate - lower.estimate;
  t.diagnostic(`--recompute_vgg: saved ${(saved / MB).toFixed(0)} MB, predicted ${(predicted / MB).toFixed(0)} MB`);
  assert.ok(predicted > 0.1 * kept.estimate, 'the configuration is one where the VGG loss\'s activations matter');
  assert.ok(saved >= (2 / 3) * predicted && saved <= 1.5 * predicted, `saved ${(saved / MB).toFixed(0)} MB, predicted ${(predicted / MB).toFixed(0)} MB`);
});
