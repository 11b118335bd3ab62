// Our networks' state dicts, saved as .pth, load in Python's torch.load with the same keys,
// shapes and values (runs where /usr/bin/python3 can import torch).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { saveTensorDict, type nn } from '../../src/torch/index.js';
import { Encoder, GlobalGenerator, initWeights, LocalEnhancer, MultiscaleDiscriminator } from '../../src/models/index.js';
import { python, pythonTorchMissing } from './helpers.js';

const PY_DESCRIBE = String.raw`
import json, sys, torch
out = {}
for p in sys.argv[1:]:
    sd = torch.load(p)
    out[p] = [[k, list(v.shape), str(v.dtype), float(v.double().sum())] for k, v in sd.items()]
print(json.dumps(out))
`;

test('state dicts saved from our networks load in torch.load with the same keys, shapes, dtypes and values', { skip: pythonTorchMissing() }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'p2phd-interop-'));
  const nets: Record<string, nn.Module> = {
    global_G: new GlobalGenerator({ input_nc: 4, output_nc: 3, ngf: 4, n_downsample_global: 2, n_blocks_global: 2 }),
    local_G: new LocalEnhancer({ input_nc: 4, output_nc: 3, ngf: 4, n_downsample_global: 1, n_blocks_global: 1, n_local_enhancers: 2, n_blocks_local: 1, norm: 'batch' }),
    D: new MultiscaleDiscriminator({ input_nc: 7, ndf: 4, n_layers_D: 3, num_D: 3 }),
    E: new Encoder({ input_nc: 3, output_nc: 3, nef: 4, n_downsample_E: 2 }),
  };
  try {
    const files: string[] = [];
    for (const [name, net] of Object.entries(nets)) {
      initWeights(net, { seed: 1 });
      const file = path.join(dir, `${name}.pth`);
      saveTensorDict(file, net.stateDict());
      files.push(file);
    }
    const described = python(PY_DESCRIBE, files) as Record<string, [string, number[], string, number][]>;
    for (const [name, net] of Object.entries(nets)) {
      const py = described[path.join(dir, `${name}.pth`)]!;
      const ours = [...net.stateDict()];
      assert.deepEqual(py.map((e) => e[0]), ours.map(([k]) => k), `${name}: same keys in the same order`);
      ours.forEach(([k, t], i) => {
        const [, shape, dtype, sum] = py[i]!;
        assert.deepEqual(shape, t.shape, `${name} ${k} shape`);
        assert.equal(dtype, `torch.${t.dtype}`, `${name} ${k} dtype`);
        const ourSum = t.toNumbers().reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - ourSum) <= 1e-9 * Math.max(1, Math.abs(ourSum)) + 1e-9, `${name} ${k} sum ${sum} vs ${ourSum}`);
      });
    }
    // The batch-norm generator carries running statistics, int64 counters included.
    assert.ok(described[path.join(dir, 'local_G.pth')]!.some(([k, , dtype]) => k === 'model.2.num_batches_tracked' && dtype === 'torch.int64'));
  } finally {
    for (const net of Object.values(nets)) net.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
