// The networks against the official implementation: state dicts written by the official code
// load strictly (no missing or unexpected keys), and our forward passes reproduce its outputs.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cat, dispose, noGrad, tidy, type nn } from '../../src/torch/index.js';
import { Encoder, GlobalGenerator, LocalEnhancer, MultiscaleDiscriminator } from '../../src/models/index.js';
import { fixture, get, relL2, withFixture } from './helpers.js';

const TOL = 1e-5;

/** Loads a fixture state dict strictly and checks it covers exactly the module's keys. */
function loadStrict(net: nn.Module, file: string): void {
  withFixture(file, (sd) => {
    assert.deepEqual([...sd.keys()].sort(), [...net.stateDict().keys()].sort(), `${file}: same keys as the module`);
    const { missing, unexpected } = net.loadStateDict(sd, { strict: true, source: file });
    assert.deepEqual(missing, []);
    assert.deepEqual(unexpected, []);
  });
}

const inputs = fixture('inputs.pth');
after(() => dispose(inputs));

for (const file of ['global_G.pth', 'global_G_legacy.pth']) {
  test(`GlobalGenerator loads ${file} strictly and reproduces global_G_out.pth`, () => {
    const G = new GlobalGenerator({ input_nc: 8, output_nc: 3, ngf: 8, n_downsample_global: 3, n_blocks_global: 2 });
    try {
      loadStrict(G, file);
      const err = withFixture('global_G_out.pth', (ref) =>
        noGrad(() => tidy(() => relL2(G.forward(get(inputs, 'input_concat')), get(ref, 'fake_image')))));
      assert.ok(err < TOL, `relative L2 error ${err}`);
    } finally {
      G.dispose();
    }
  });
}

test('LocalEnhancer loads local_G.pth strictly and reproduces local_G_out.pth', () => {
  const G = new LocalEnhancer({
    input_nc: 8, output_nc: 3, ngf: 8, n_downsample_global: 2, n_blocks_global: 2, n_local_enhancers: 1, n_blocks_local: 1,
  });
  try {
    loadStrict(G, 'local_G.pth');
    const err = withFixture('local_G_out.pth', (ref) =>
      noGrad(() => tidy(() => relL2(G.forward(get(inputs, 'input_concat')), get(ref, 'fake_image')))));
    assert.ok(err < TOL, `relative L2 error ${err}`);
  } finally {
    G.dispose();
  }
});

test('MultiscaleDiscriminator loads D.pth strictly and reproduces every intermediate output in D_out.pth', () => {
  const D = new MultiscaleDiscriminator({ input_nc: 11, ndf: 8, n_layers_D: 2, num_D: 2, getIntermFeat: true });
  try {
    loadStrict(D, 'D.pth');
    withFixture('D_out.pth', (ref) => noGrad(() => tidy(() => {
      const out = D.forward(cat([get(inputs, 'input_concat'), get(inputs, 'real_image')], 1));
      assert.equal(out.length, 2);
      const seen: string[] = [];
      out.forEach((scale, i) => {
        assert.equal(scale.length, 4, 'n_layers_D + 2 outputs per scale');
        scale.forEach((t, j) => {
          const key = `scale${i}_layer${j}`;
          seen.push(key);
          const err = relL2(t, get(ref, key));
          assert.ok(err < TOL, `${key}: relative L2 error ${err}`);
        });
      });
      assert.deepEqual(seen.sort(), [...ref.keys()].sort(), 'every reference output compared');
    })));
  } finally {
    D.dispose();
  }
});

test('Encoder loads E.pth strictly and reproduces the instance-averaged feat_map of E_out.pth', () => {
  const E = new Encoder({ input_nc: 3, output_nc: 3, nef: 8, n_downsample_E: 2 });
  try {
    loadStrict(E, 'E.pth');
    const err = withFixture('E_out.pth', (ref) =>
      noGrad(() => tidy(() => relL2(E.forward(get(inputs, 'real_image'), get(inputs, 'inst')), get(ref, 'feat_map')))));
    assert.ok(err < TOL, `relative L2 error ${err}`);
  } finally {
    E.dispose();
  }
});

test('a state dict for another architecture is refused, naming the keys', () => {
  const G = new GlobalGenerator({ input_nc: 8, output_nc: 3, ngf: 8, n_downsample_global: 3, n_blocks_global: 3 });
  try {
    assert.throws(() => loadStrict(G, 'global_G.pth'), /same keys/);
    withFixture('global_G.pth', (sd) => {
      assert.throws(() => G.loadStateDict(sd, { source: 'global_G.pth' }), /global_G\.pth[\s\S]*missing keys: .*model\.15\.conv_block\.1\.weight/);
    });
  } finally {
    G.dispose();
  }
});
