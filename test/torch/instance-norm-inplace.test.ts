// The in-place instance norm (+ ReLU) of synthesis (native/src/instance_norm.cpp) against ATen's
// instance_norm and relu, and nn.Sequential's use of it: only without autograd, only on its own
// intermediates, with the outputs of the plain path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { F, isGradEnabled, nn, noGrad, randn, tidy, type Tensor } from '../../src/torch/index.js';
import { assertClose } from './helpers.js';

const values = (t: Tensor): number[] => Array.from(t.toArray() as Float32Array | Float64Array);

test('instanceNormInPlace equals instance_norm, and instance_norm then relu, in float32 and float64', () => {
  tidy(() => {
    for (const [dtype, rtol, atol] of [['float32', 1e-5, 1e-5], ['float64', 1e-12, 1e-12]] as const) {
      // Planes far from zero mean and unit variance, as a convolution's outputs are.
      const x = randn([2, 3, 37, 53], { dtype }).mul(3).add(5);
      for (const relu of [false, true]) {
        const expected = noGrad(() => { const y = F.instanceNorm(x, {}); return relu ? y.relu() : y; });
        const y = x.clone();
        const out = noGrad(() => F.instanceNormInPlace(y, 1e-5, relu));
        assert.equal(out, y, 'in place');
        assertClose(values(y), values(expected), { rtol, atol }, `${dtype}${relu ? ' with relu' : ''}`);
        if (relu) assert.ok(values(y).some((v) => v === 0) && values(y).every((v) => v >= 0));
      }
    }
  });
});

test('instanceNormInPlace refuses a tensor that requires grad under autograd, and a non-contiguous one', () => {
  tidy(() => {
    const leaf = randn([1, 2, 4, 4]).requiresGrad_(true);
    assert.ok(isGradEnabled());
    assert.throws(() => F.instanceNormInPlace(leaf), /inference only/);
    assert.throws(() => noGrad(() => F.instanceNormInPlace(randn([1, 4, 5, 6]).transpose(2, 3))), /contiguous/);
  });
});

test('nn.Sequential under no_grad inside withInPlaceNorms normalises its intermediates in place: the outputs of the plain path, and its input left alone; outside it, bitwise the plain path', () => {
  tidy(() => {
    const block = new nn.Sequential(
      new nn.Conv2d(3, 4, 3, { padding: 1 }), new nn.InstanceNorm2d(4), new nn.ReLU(true),
      new nn.Conv2d(4, 4, 3, { padding: 1 }), new nn.InstanceNorm2d(4),
    );
    // An instance norm first: its input is the caller's, so it must not be overwritten.
    const normFirst = new nn.Sequential(new nn.InstanceNorm2d(3), new nn.ReLU(), new nn.Conv2d(3, 2, 1));
    const x = randn([1, 3, 20, 24]).mul(2).add(1);
    const before = values(x);
    for (const net of [block, normFirst]) {
      const withGraph = net.forward(x); // autograd on: ATen's instance_norm
      const inference = nn.withInPlaceNorms(() => noGrad(() => net.forward(x)));
      // Without withInPlaceNorms no_grad computes what the graph does, bit for bit (checkpointed segments rely on it).
      assert.deepEqual(values(noGrad(() => net.forward(x))), values(withGraph.detach()));
      assertClose(values(inference), values(withGraph.detach()), { rtol: 1e-5, atol: 1e-5 });
      assert.deepEqual(values(x), before, 'the input is unchanged');
    }
    // forwardFrom(…, ownsInput): the caller gives the input away; the first norm then works on it,
    // and its handle is disposed once consumed (a view of it still reads the storage).
    const owned = x.clone();
    const storage = owned.view([-1]);
    const out = nn.withInPlaceNorms(() => noGrad(() => normFirst.forwardFrom(0, owned, true)));
    assertClose(values(out), values(noGrad(() => normFirst.forward(x))), { rtol: 1e-5, atol: 1e-5 });
    assert.notDeepEqual(values(storage), before, 'the owned input was normalised in place');
    assert.ok(owned.isDisposed, 'and disposed once consumed');
  });
});
