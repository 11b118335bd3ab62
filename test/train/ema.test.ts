// --ema: the moving average of G's weights, against the same average computed with PyTorch's
// tensors by hand, and end to end: saved beside G, synthesised with by `test --use_ema`.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { WeightAverage } from '../../src/train/ema.js';
import { nn, noGrad, tensor } from '../../src/torch/index.js';
import { python, pythonTorchMissing, rng } from '../models/helpers.js';
import { cli, tempDir, tinyTrainArgs } from '../cli/helpers.js';

const PY_EMA = String.raw`
import json, sys, torch
d = json.loads(sys.argv[1])
decay = d['decay']
ema = {k: torch.tensor(v, dtype=torch.float32) for k, v in d['steps'][0].items()}
for step in d['steps'][1:]:
    for k, v in step.items():
        if k in d['params']:
            ema[k].mul_(decay).add_(torch.tensor(v, dtype=torch.float32), alpha=1 - decay)
        else:
            ema[k] = torch.tensor(v, dtype=torch.float32)
print(json.dumps({k: v.tolist() for k, v in ema.items()}))
`;

test('the moving average equals PyTorch\'s hand-computed EMA within 1e-5; buffers are copied', { skip: pythonTorchMissing() }, () => {
  const net = new nn.Sequential(new nn.Conv2d(2, 3, 3), new nn.BatchNorm2d(3));
  const copy = new nn.Sequential(new nn.Conv2d(2, 3, 3), new nn.BatchNorm2d(3));
  const decay = 0.9;
  const r = rng(11);
  const floats = () => [...net.stateDict()].filter(([, t]) => t.dtype === 'float32');
  const snapshot = () => Object.fromEntries(floats().map(([k, t]) => [k, Array.from(t.toFloat32Array())]));
  const randomise = () => noGrad(() => { for (const [, t] of floats()) t.copy_(tensor(Array.from({ length: t.numel }, () => 2 * r() - 1), t.shape)); });
  randomise();
  const steps = [snapshot()];
  const avg = new WeightAverage(copy, decay, net);
  for (let i = 0; i < 3; i++) {
    randomise();
    steps.push(snapshot());
    avg.update(net);
  }
  const params = net.namedParameters().map(([k]) => k);
  const expected = python(PY_EMA, [JSON.stringify({ decay, steps, params })]) as Record<string, number[]>;
  const ours = avg.average.stateDict();
  for (const [k, values] of Object.entries(expected)) {
    const mine = ours.get(k)!.toFloat32Array();
    values.forEach((v, i) => assert.ok(Math.abs(mine[i]! - v) <= 1e-5, `${k}[${i}]: ${mine[i]} vs ${v}`));
  }
  // running_mean is a buffer: the latest value, not an average
  assert.deepEqual(Array.from(ours.get('1.running_mean')!.toFloat32Array()), steps[3]!['1.running_mean']);
  assert.throws(() => new WeightAverage(new nn.Sequential(new nn.Conv2d(2, 3, 3), new nn.BatchNorm2d(3)), 1, net), /between 0 and 1/);
  net.dispose();
  avg.dispose();
});

test('train --ema saves {which}_net_G_ema.pth beside G; test --use_ema synthesises with it, and refuses a run without one', (t) => {
  const root = tempDir(t);
  const data = join(root, 'data');
  const ck = join(root, 'ck');
  assert.equal(cli(['make-dataset', 'synthetic', '--out', data, '--n', '2', '--n_test', '1', '--size', '64x32', '--seed', '2']).status, 0);
  const trained = cli(['train', ...tinyTrainArgs(data, ck, 'e'), '--niter', '1', '--niter_decay', '0', '--ema', '0.9']);
  assert.equal(trained.status, 0, trained.stderr);
  assert.ok(existsSync(join(ck, 'e', 'latest_net_G_ema.pth')) && existsSync(join(ck, 'e', '1_net_G_ema.pth')));
  const tested = cli(['test', '--name', 'e', '--checkpoints_dir', ck, '--dataroot', data, '--results_dir', join(root, 'r'), '--use_ema', '--threads', '1']);
  assert.equal(tested.status, 0, tested.stderr);
  const plain = cli(['train', ...tinyTrainArgs(data, ck, 'p'), '--niter', '1', '--niter_decay', '0']);
  assert.equal(plain.status, 0, plain.stderr);
  assert.ok(!existsSync(join(ck, 'p', 'latest_net_G_ema.pth')), 'off by default');
  const refused = cli(['test', '--name', 'p', '--checkpoints_dir', ck, '--dataroot', data, '--results_dir', join(root, 'r'), '--use_ema']);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /--use_ema: no .*latest_net_G_ema\.pth/);
});
