// What an exported model says about itself: its input layout in metadata_props (read without
// decoding the weights), the refusal of a model for another layout, and float16 weights.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLayout, decodeModel, exportGenerator, layoutFromMetadata, layoutOf, readMetadataProps, OPSET } from '../../src/onnx/index.js';
import { tidy } from '../../src/torch/index.js';
import { int64Map, maxAbsDiff, randomGenerator, runOnnx, smallNetwork } from './helpers.js';

test('the model records opset, dynamic inputs and its layout; metadata read cheaply equals the full decode', () => {
  const o = smallNetwork({ instance_feat: true, feat_num: 4, netG: 'local' });
  const G = randomGenerator(o);
  try {
    const bytes = exportGenerator(G, o);
    const model = decodeModel(bytes);
    assert.deepEqual(model.opset_import.map((x) => x.version), [OPSET]);
    assert.deepEqual(model.graph.input.map((i) => i.name), ['label', 'inst', 'feat']);
    assert.deepEqual(model.graph.output.map((i) => i.name), ['image']);
    const dims = model.graph.input[2]!.type.tensor_type.shape.dim;
    assert.deepEqual(dims, [{ dim_param: 'N' }, { dim_value: 4 }, { dim_param: 'H' }, { dim_param: 'W' }]);
    assert.deepEqual(readMetadataProps(bytes), model.metadata_props);
    assert.deepEqual(layoutFromMetadata(model.metadata_props), {
      label_nc: 7, input_nc: 3, output_nc: 3, instance: true, feat_num: 4, size_multiple: 8, netG: 'local',
    });
  } finally {
    G.dispose();
  }
});

test('checkLayout refuses another label_nc or feature layout, naming both', () => {
  const run = layoutOf(smallNetwork({ label_nc: 35 }));
  assert.throws(() => checkLayout(layoutOf(smallNetwork({ label_nc: 35, instance_feat: true })), run, 'the model m.onnx'),
    /m\.onnx was exported for label_nc 35, instance maps, 3 feature channels; this run has label_nc 35, instance maps, no features/);
  assert.throws(() => checkLayout(layoutOf(smallNetwork({ label_nc: 0, no_instance: true })), run, 'm'),
    /exported for label_nc 0 \(an input image of 3 channels\), no instance maps, no features/);
  assert.throws(() => checkLayout(null, run, 'm'), /no pix2pixhd metadata/);
  assert.doesNotThrow(() => checkLayout(layoutOf(smallNetwork({ label_nc: 35, ngf: 16 })), run, 'm'), 'the width of G is not a layout');
  assert.throws(() => readMetadataProps(new Uint8Array([0xff, 0xff, 0xff])), /not an ONNX model/);
});

test('--fp16 stores float16 weights (torch\'s rounding) and still computes in float32, near the float32 model', async () => {
  const o = smallNetwork();
  const G = randomGenerator(o);
  try {
    const full = exportGenerator(G, o);
    const half = exportGenerator(G, o, { fp16: true });
    const ratio = half.length / full.length;
    assert.ok(ratio > 0.45 && ratio < 0.6, `size ratio ${ratio}`);
    const first = decodeModel(half).graph.initializer.find((i) => i.name === 'model.1.weight_fp16');
    assert.ok(first, 'the first conv weight is a float16 initializer');
    assert.equal(first.data_type, 10);
    const expectedBits = tidy(() => G.stateDict().get('model.1.weight')!.to('float16').toArray() as Uint16Array);
    assert.deepEqual(new Uint16Array(Uint8Array.from(first.raw_data).buffer), expectedBits);

    const [h, w] = [20, 28];
    const ids = Array.from({ length: h * w }, (_, i) => (i * 7 + (i >> 3)) % 7);
    const feeds = () => ({ label: int64Map(ids, h, w), inst: int64Map(ids.map((v) => (v > 3 ? v : 0)), h, w) });
    const [a, b] = [await runOnnx(full, feeds()), await runOnnx(half, feeds())];
    const d = maxAbsDiff(a.data, b.data);
    assert.ok(d > 0 && d < 0.05, `float16 weights change the image a little: ${d}`);
  } finally {
    G.dispose();
  }
});
