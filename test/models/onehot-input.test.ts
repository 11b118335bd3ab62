// G's opening convolution read from the label ids (F.onehotConv2d) against the dense convolution
// over the one-hot input that it replaces: the same outputs and weight gradients for the global
// and local generators, with and without boundary maps and feature channels, at sizes that are
// and are not multiples of G's factor; and a wrong layout changes the output, so the comparisons
// are between two different paths.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { synthesize } from '../../src/infer/synthesize.js';
import { encodeInput, GlobalGenerator, LocalEnhancer } from '../../src/models/index.js';
import type { OnehotLayout } from '../../src/models/onehot-input.js';
import { cat, F, manualSeed, noGrad, tidy, type Tensor } from '../../src/torch/index.js';
import { relL2, uniform } from './helpers.js';

const LABEL_NC = 6;

function maps(n: number, h: number, w: number, seed: number): { label: Tensor; inst: Tensor } {
  // Blocky class and instance maps, as scenes are: ids constant over 3×3 cells.
  const cell = (s: number, k: number) => F.interpolate(uniform([n, 1, Math.ceil(h / 3), Math.ceil(w / 3)], s, 0, k).floor(), { size: [Math.ceil(h / 3) * 3, Math.ceil(w / 3) * 3], mode: 'nearest' })
    .narrow(2, 0, h).narrow(3, 0, w).long();
  return { label: cell(seed, LABEL_NC - 0.001), inst: cell(seed + 1, 4) };
}

function layoutOf(label: Tensor, input: Tensor, edges: boolean, dtype: 'float32' | 'float64'): OnehotLayout {
  // As generatorInput gives it: a channel of the input, strided when the batch has several items.
  return { labels: label.squeeze(1), edges: edges ? input.select(1, LABEL_NC) : null, labelNc: LABEL_NC };
}

for (const dtype of ['float64', 'float32'] as const) {
  // float32: the two paths sum in different orders; over thousands of pixels that is ~1e-6 apart.
  const tol = dtype === 'float64' ? 1e-12 : 1e-5;
  for (const [edges, featNum] of [[true, 0], [false, 0], [true, 3]] as const) {
    test(`${dtype}, ${edges ? 'with' : 'without'} boundaries${featNum ? `, ${featNum} feature channels` : ''}: G's output and first-conv weight gradient equal the dense path's (relative L2 ≤ ${tol})`, () => tidy(() => {
      manualSeed(7);
      const inputNc = LABEL_NC + (edges ? 1 : 0) + featNum;
      const { label, inst } = maps(2, 32, 48, 3);
      const condition = encodeInput({ label, inst: edges ? inst : null }, { label_nc: LABEL_NC, no_instance: !edges });
      const input = (featNum ? cat([condition, uniform([2, featNum, 32, 48], 9)], 1) : condition).to('cpu', { dtype });
      const layout = layoutOf(label, input, edges, dtype);
      for (const G of [
        new GlobalGenerator({ input_nc: inputNc, output_nc: 3, ngf: 4, n_downsample_global: 2, n_blocks_global: 1 }),
        new LocalEnhancer({ input_nc: inputNc, output_nc: 3, ngf: 4, n_downsample_global: 1, n_blocks_global: 1, n_local_enhancers: 1, n_blocks_local: 1 }),
      ]) {
        G.to(dtype);
        const name = G.constructor.name;
        const weight = new Map(G.namedParameters()).get(G instanceof GlobalGenerator ? 'model.1.weight' : 'model1_1.1.weight')!;
        const dense = G.forward(input);
        dense.square().mean().backward();
        const denseGrad = weight.grad!.clone();
        weight.grad = null;
        const lookup = G.forward(input, layout);
        lookup.square().mean().backward();
        assert.ok(relL2(lookup, dense) <= tol, `${name} output: relative L2 ${relL2(lookup, dense)}`);
        assert.ok(relL2(weight.grad!, denseGrad) <= tol, `${name} opening conv's weight gradient: relative L2 ${relL2(weight.grad!, denseGrad)}`);
        // The ids shifted by one class: a different input, so the lookups are what ran.
        const wrong = { ...layout, labels: layout.labels.add(1).remainder(LABEL_NC) };
        assert.ok(relL2(noGrad(() => G.forward(input, wrong)), dense) > 1e-3, `${name}: a wrong layout changes the output`);
        G.dispose();
      }
    }));
  }
}

// The kernel on its own, at the channel widths that take its vector code (16, 32 and 64: ngf 16–64
// and the local enhancer's halves of them) and one that does not (12), against reflection padding
// and a dense convolution over the one-hot channels.
for (const dtype of ['float64', 'float32'] as const) {
  const tol = dtype === 'float64' ? 1e-12 : 1e-5;
  for (const cout of [16, 32, 64, 12]) {
    test(`${dtype}, ${cout} output channels: onehotConv2d and its weight gradient equal a dense convolution's (relative L2 ≤ ${tol})`, () => tidy(() => {
      const { label, inst } = maps(2, 13, 21, 11);
      const input = encodeInput({ label, inst }, { label_nc: LABEL_NC }).to('cpu', { dtype });
      const weight = uniform([cout, LABEL_NC + 1, 7, 7], cout).to('cpu', { dtype }).requiresGrad_(true);
      const gradOut = uniform([2, cout, 13, 21], cout + 1).to('cpu', { dtype });
      const dense = F.conv2d(F.pad(input, [3, 3, 3, 3], 'reflect'), weight);
      dense.mul(gradOut).sum().backward();
      const denseGrad = weight.grad!.clone();
      weight.grad = null;
      const lookup = F.onehotConv2d(label.squeeze(1), input.select(1, LABEL_NC).contiguous(), weight, LABEL_NC);
      lookup.mul(gradOut).sum().backward();
      assert.ok(relL2(lookup, dense) <= tol, `output: relative L2 ${relL2(lookup, dense)}`);
      assert.ok(relL2(weight.grad!, denseGrad) <= tol, `weight gradient: relative L2 ${relL2(weight.grad!, denseGrad)}`);
    }));
  }
}

test('synthesize pads the layout with the input: same image as the dense path at a size G must pad to (30×45 for a factor of 8)', () => tidy(() => {
  const { label, inst } = maps(1, 30, 45, 5);
  const input = encodeInput({ label, inst }, { label_nc: LABEL_NC });
  const G = new LocalEnhancer({ input_nc: LABEL_NC + 1, output_nc: 3, ngf: 4, n_downsample_global: 2, n_blocks_global: 1, n_local_enhancers: 1, n_blocks_local: 1 });
  const dense = synthesize(G, input, 8);
  const lookup = synthesize(G, input, 8, { layout: layoutOf(label, input, true, 'float32') });
  assert.deepEqual(lookup.shape, [1, 3, 30, 45]);
  assert.ok(relL2(lookup, dense) <= 1e-5, `relative L2 ${relL2(lookup, dense)}`);
  G.dispose();
}));

test('bad layouts are refused by the kernel with what is wrong', () => tidy(() => {
  const weight = uniform([4, LABEL_NC + 1, 7, 7], 1);
  const labels = uniform([1, 9, 9], 2, 0, LABEL_NC).floor().long();
  assert.throws(() => F.onehotConv2d(labels.add(LABEL_NC), null, weight, LABEL_NC), /label ids must be in \[0, 6\)/);
  assert.throws(() => F.onehotConv2d(labels, uniform([1, 9, 9], 3), weight, LABEL_NC), /only 0 and 1/);
  assert.throws(() => F.onehotConv2d(labels.narrow(1, 0, 3), null, weight, LABEL_NC), /reflection padding 3 needs a map larger than it/);
}));
