import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { AlignedDataset } from '../../src/data/dataset.js';
import { Rng } from '../../src/util/rng.js';
import { CAR_PALETTE, renderScene } from '../../src/data/synthetic/scene.js';
import { carPaletteIndices, makeSyntheticDataset, readSyntheticMeta } from '../../src/data/synthetic/dataset.js';
import { decodeGrey, decodeRgb, tempDir } from './helpers.js';

// Cityscapes ids: road 7, sidewalk 8, building 11, pole 17, traffic light 19, traffic sign 20,
// vegetation 21, sky 23, person 24, car 26.
const EXPECTED_IDS = [7, 8, 11, 17, 19, 20, 21, 23, 24, 26];

function filesOf(dir: string): string[] {
  const out: string[] = [];
  for (const sub of readdirSync(dir, { withFileTypes: true })) {
    if (sub.isDirectory()) for (const f of readdirSync(path.join(dir, sub.name))) out.push(`${sub.name}/${f}`);
    else out.push(sub.name);
  }
  return out.sort();
}

test('same seed → identical bytes; another seed → different scenes; official layout with test scenes', async (t) => {
  const a = tempDir(t);
  const b = tempDir(t);
  const c = tempDir(t);
  const summary = await makeSyntheticDataset({ out: a, n: 3, width: 96, height: 48, seed: 11 });
  await makeSyntheticDataset({ out: b, n: 3, width: 96, height: 48, seed: 11 });
  await makeSyntheticDataset({ out: c, n: 3, width: 96, height: 48, seed: 12 });
  assert.equal(summary.test, 1); // max(1, n/10)
  const files = filesOf(a);
  assert.deepEqual(files, [
    'synthetic.json',
    'test_img/scene_00000.png', 'test_inst/scene_00000.png', 'test_label/scene_00000.png', 'test_meta/scene_00000.json',
    'train_img/scene_00000.png', 'train_img/scene_00001.png', 'train_img/scene_00002.png',
    'train_inst/scene_00000.png', 'train_inst/scene_00001.png', 'train_inst/scene_00002.png',
    'train_label/scene_00000.png', 'train_label/scene_00001.png', 'train_label/scene_00002.png',
    'train_meta/scene_00000.json', 'train_meta/scene_00001.json', 'train_meta/scene_00002.json',
  ]);
  for (const f of files) assert.ok(readFileSync(path.join(a, f)).equals(readFileSync(path.join(b, f))), `${f} differs between runs`);
  for (const f of files.filter((x) => x.endsWith('.png'))) {
    assert.ok(!readFileSync(path.join(a, f)).equals(readFileSync(path.join(c, f))), `${f} is the same for seeds 11 and 12`);
  }
  // Rewriting over a synthetic set replaces it; over other files it refuses.
  await makeSyntheticDataset({ out: a, n: 1, nTest: 0, width: 96, height: 48, seed: 11 });
  assert.deepEqual(filesOf(a), ['synthetic.json', 'train_img/scene_00000.png', 'train_inst/scene_00000.png', 'train_label/scene_00000.png', 'train_meta/scene_00000.json']);
  await assert.rejects(makeSyntheticDataset({ out: path.join(a, 'train_img'), n: 1 }), /not empty/);
});

test('written maps: Cityscapes label ids, class·1000+k instances, readable as a data set with label_nc 35', async (t) => {
  const dir = tempDir(t);
  await makeSyntheticDataset({ out: dir, n: 2, nTest: 1, width: 256, height: 128, seed: 4 });
  for (const phase of ['train', 'test']) {
    const names = readdirSync(path.join(dir, `${phase}_label`));
    for (const name of names) {
      const label = await decodeGrey(path.join(dir, `${phase}_label`, name));
      const inst = await decodeGrey(path.join(dir, `${phase}_inst`, name));
      assert.equal(label.depth, 'uchar');
      assert.equal(inst.depth, 'ushort');
      const ids = [...new Set(label.data)].sort((x, y) => x - y);
      assert.ok(ids.every((i) => EXPECTED_IDS.includes(i)), `unexpected ids ${ids}`);
      for (const must of [7, 11, 26]) assert.ok(ids.includes(must), `${name} lacks id ${must}`);
      const counts = new Map<number, number>();
      for (let i = 0; i < label.data.length; i++) {
        const l = label.data[i] as number;
        const v = inst.data[i] as number;
        if (l === 24 || l === 26) assert.equal(Math.floor(v / 1000), l);
        else assert.equal(v, l);
        if (v >= 1000) counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      const meta = readSyntheticMeta(dir, phase, name);
      assert.deepEqual(
        meta.instances.map((it) => [it.id, it.pixels]),
        [...counts.entries()].sort((x, y) => x[0] - y[0]),
      );
    }
  }
  const ds = AlignedDataset.open({ dataroot: dir, label_nc: 35, resize_or_crop: 'none' });
  const item = await ds.load(0, new Rng(0));
  assert.deepEqual([item.width, item.height], [256, 128]);
});

test("every car's photo pixels average close to its CAR_PALETTE colour (and nearest to it)", async (t) => {
  const dist = (a: readonly number[], b: readonly number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
  let checked = 0;
  const check = (palette: number, sum: number[], count: number, where: string) => {
    const mean = sum.map((s) => s / count);
    const own = CAR_PALETTE[palette]!.rgb;
    // Paint is ~85% of a car's pixels (glass, wheels and lights are the rest), and the palette's
    // entries are at least 80 apart, so a mean within 50 is close and unambiguous.
    assert.ok(dist(mean, own) < 50, `${where}: mean ${mean.map(Math.round)} is far from ${CAR_PALETTE[palette]!.name} ${own}`);
    const nearest = CAR_PALETTE.map((p, i) => [dist(mean, p.rgb), i] as const).sort((x, y) => x[0] - y[0])[0]![1];
    assert.equal(nearest, palette, where);
    checked++;
  };
  // From files, through the sidecar.
  const dir = tempDir(t);
  await makeSyntheticDataset({ out: dir, n: 2, nTest: 0, width: 384, height: 192, seed: 21 });
  for (const name of ['scene_00000', 'scene_00001']) {
    const photo = await decodeRgb(path.join(dir, 'train_img', `${name}.png`));
    const inst = await decodeGrey(path.join(dir, 'train_inst', `${name}.png`));
    for (const [id, palette] of carPaletteIndices(readSyntheticMeta(dir, 'train', name))) {
      const sum = [0, 0, 0];
      let count = 0;
      for (let i = 0; i < inst.data.length; i++) {
        if (inst.data[i] !== id) continue;
        for (let c = 0; c < 3; c++) sum[c]! += photo.data[3 * i + c]!;
        count++;
      }
      if (count >= 30) check(palette, sum, count, `${name} car ${id}`);
    }
  }
  // And many more in memory.
  for (let seed = 0; seed < 12; seed++) {
    const s = renderScene(256, 128, seed);
    for (const it of s.instances) {
      if (it.palette === undefined || it.pixels < 30) continue;
      const sum = [0, 0, 0];
      for (let i = 0; i < s.inst.length; i++) if (s.inst[i] === it.id) for (let c = 0; c < 3; c++) sum[c]! += s.rgb[3 * i + c]!;
      check(it.palette, sum, it.pixels, `seed ${seed} car ${it.id}`);
    }
  }
  assert.ok(checked >= 20, `only ${checked} cars checked`);
});

test('scenes scale to 2048×1024 with the same composition', () => {
  const small = renderScene(256, 128, 5);
  const big = renderScene(2048, 1024, 5);
  const share = (s: { label: Uint8Array }, id: number) => s.label.filter((v) => v === id).length / s.label.length;
  for (const id of [7, 8, 11, 23]) assert.ok(Math.abs(share(small, id) - share(big, id)) < 0.03, `class ${id}: ${share(small, id)} vs ${share(big, id)}`);
  assert.deepEqual(big.instances.map((i) => i.id), small.instances.filter((i) => i.pixels > 0).map((i) => i.id).filter((id) => big.instances.some((b) => b.id === id)));
  assert.throws(() => renderScene(8, 8, 0), /at least 16/);
});
