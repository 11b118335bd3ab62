// Data-parallel training is single-process training with the whole batch: two Gloo ranks (one
// libtorch thread each), each reading its half of every batch, end with bit-identical weights,
// and those equal a single process's trained on the same whole batches within 1e-5 (relative L2).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { makeSyntheticDataset } from '../../src/data/index.js';
import { cat, dispose, distributedAvailable, loadTensorDict, manualSeed, type nn, noGrad, randn, Tensor, tidy } from '../../src/torch/index.js';
import { cli, ROOT, tempDir, tinyTrainArgs } from '../cli/helpers.js';
import { biasesBeforeInstanceNorm, bitIdentical, relativeL2, runRanks } from './helpers.js';
import { buildDiscriminator, buildGenerator } from '../../src/models/from-options.js';
import { parseOptions } from '../../src/options/parse.js';
import { runConfig } from '../../src/run/index.js';
import { deriveSeed } from '../../src/util/rng.js';

const skip = distributedAvailable().gloo ? false : 'this build of the binding has no c10d Gloo (install libgloo-dev and rebuild)';

test('2 ranks × half batches: identical weights on both, equal to one process with the whole batch', { skip }, async (t) => {
  const root = tempDir(t, 'p2phd-ddp-');
  const data = join(root, 'data');
  const ck = join(root, 'ck');
  // 8 scenes, batch 4 (2 per rank): 2 iterations per epoch, 3 epochs (lr decays in the last two).
  await makeSyntheticDataset({ out: data, n: 8, nTest: 1, width: 64, height: 32, seed: 5 });
  const args = [...tinyTrainArgs(data, ck, 'dp'), '--batchSize', '4', '--niter', '1', '--niter_decay', '2', '--save_epoch_freq', '100'];
  // Small buckets, so that several all-reduces are in flight during each backward pass.
  const ranks = await runRanks(join(ROOT, 'test', 'dist', 'train-rank.ts'), [...args, '--bucket_cap_mb', '0.02'], 2, {}, t);
  for (const r of ranks) assert.equal(r.status, 0, `rank ${r.rank}: ${r.stderr}`);
  const single = cli(['train', ...args.map((a) => (a === 'dp' ? 'single' : a))]);
  assert.equal(single.status, 0, single.stderr);

  const config = runConfig(parseOptions(args, ['base', 'train']).values);
  for (const net of ['G', 'D']) {
    const [w0, w1, w] = [join(ck, 'dp_rank0'), join(ck, 'dp_rank1'), join(ck, 'single')].map((d) => loadTensorDict(join(d, `latest_net_${net}.pth`)));
    assert.deepEqual(bitIdentical(w0!, w1!), [], `${net}: both ranks hold the same bits`);
    const build = () => (net === 'G' ? buildGenerator(config.network, deriveSeed(config.seed, 'G')) : buildDiscriminator(config.network, deriveSeed(config.seed, 'D')));
    const [start, a, b] = [build(), build(), build()];
    const noise = biasesBeforeInstanceNorm(start);
    assert.ok(noise.size > 0 && noise.size < start.namedParameters().length / 2, [...noise].join(', '));
    const rel = relativeL2(w0!, w!, noise);
    assert.ok(rel < 1e-5, `${net}: relative L2 to single-process training ${rel}`);
    // The same function: each network's output for one input, with every weight loaded.
    a.loadStateDict(w0!);
    b.loadStateDict(w!);
    manualSeed(3);
    const outRel = noGrad(() => tidy(() => {
      const x = randn([2, net === 'G' ? 36 : 39, 32, 64]);
      const flat = (o: unknown): Tensor => (o instanceof Tensor ? o.reshape([-1]) : cat((o as unknown[]).map(flat)));
      const [ya, yb] = [flat(a.forward(x)), flat(b.forward(x))];
      return ya.sub(yb).square().sum().sqrt().item() / yb.square().sum().sqrt().item();
    }));
    assert.ok(outRel < 1e-5, `${net}: relative L2 between the outputs ${outRel}`);
    // The check can fail: training moved the weights from where they started far beyond the tolerance.
    const moved = relativeL2(start.stateDict(), w!, noise);
    assert.ok(moved > 1e-3, `${net} moved ${moved} from its initial weights`);
    for (const m of [start, a, b]) m.dispose();
    dispose([w0, w1, w]);
  }
});
