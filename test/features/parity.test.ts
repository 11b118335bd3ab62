// Encoding with the official encoder's weights: encodeFeatures (padding to E's size multiple,
// then the per-instance mean) reproduces the official feat_map of E_out.pth, at its own size and
// at a size that needs padding; per-object rows and their clusters are then the same run to run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterInstances } from '../../src/features/encode.js';
import { encodeFeatures } from '../../src/features/encode.js';
import { extractInstanceFeatures } from '../../src/features/instance-features.js';
import { Encoder } from '../../src/models/index.js';
import { noGrad, tidy } from '../../src/torch/index.js';
import { get, relL2, withFixture } from '../models/helpers.js';

function officialEncoder(): Encoder {
  const E = new Encoder({ input_nc: 3, output_nc: 3, nef: 8, n_downsample_E: 2 });
  withFixture('E.pth', (sd) => E.loadStateDict(sd, { strict: true, source: 'E.pth' }));
  return E.eval();
}

test('encodeFeatures with E.pth reproduces E_out.pth, and per-object rows and clusters are deterministic', () => {
  const E = officialEncoder();
  try {
    withFixture('inputs.pth', (inputs) => withFixture('E_out.pth', (ref) => {
      const image = get(inputs, 'real_image');
      const inst = get(inputs, 'inst');
      const err = noGrad(() => tidy(() => relL2(encodeFeatures(E, image, inst), get(ref, 'feat_map'))));
      assert.ok(err < 1e-5, `relative L2 error ${err}`);

      const [, , h, w] = image.shape as number[];
      const rows = () => {
        const f = tidy(() => encodeFeatures(E, image, inst).toFloat32Array());
        const ids = tidy(() => inst.flatten().toNumbers());
        return extractInstanceFeatures(f, 3, ids, w!, h!, { chw: tidy(() => image.flatten().toFloat32Array()) });
      };
      const a = rows();
      // The per-object features are the official map's value at any pixel of the object.
      const official = tidy(() => get(ref, 'feat_map').toFloat32Array());
      const ids = tidy(() => inst.flatten().toNumbers());
      for (const r of a) {
        const p = ids.indexOf(r.id);
        r.feature.forEach((v, k) => assert.ok(Math.abs(v - official[k * h! * w! + p]!) < 1e-5));
      }
      const img = [{ name: 'x', path: 'x', instances: a }];
      const opts = { n_clusters: 2, min_area: 0, seed: 4, feat_num: 3, label_nc: 7, grouping: 'instance' as const };
      assert.deepEqual(clusterInstances([{ name: 'x', path: 'x', instances: rows() }], opts), clusterInstances(img, opts));
    }));
  } finally {
    E.dispose();
  }
});

test('encodeFeatures at a size E cannot take directly (not a multiple of 4) pads, crops back and keeps objects constant', () => {
  const E = officialEncoder();
  try {
    withFixture('inputs.pth', (inputs) => {
      const image = get(inputs, 'real_image').narrow(2, 0, 61).narrow(3, 0, 127);
      const inst = get(inputs, 'inst').narrow(2, 0, 61).narrow(3, 0, 127);
      const f = noGrad(() => encodeFeatures(E, image, inst));
      assert.deepEqual(f.shape, [1, 3, 61, 127]);
      const values = f.toFloat32Array();
      const ids = inst.flatten().toNumbers();
      const first = new Map<number, number>();
      ids.forEach((id, p) => {
        if (!first.has(id)) first.set(id, values[p]!);
        assert.equal(values[p], first.get(id));
      });
      f.dispose();
      image.dispose();
      inst.dispose();
    });
  } finally {
    E.dispose();
  }
});
