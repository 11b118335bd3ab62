// The smaller failures of issue 11, as a user meets them: each is a message naming the file or the
// option and what is wrong, a non-zero exit status, and nothing written (no run or results folder,
// no temporary copy left behind).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeGrey8 } from '../data/helpers.js';
import { cli, tempDir, tinyTrainArgs } from './helpers.js';

test('bad option values and run names exit 2 naming the option, before anything is written', (t) => {
  const root = tempDir(t);
  const ck = join(root, 'deep', 'checkpoints');
  const cases: [string[], RegExp][] = [
    [['--ngf', '0'], /--ngf must be at least 1 \(generator filters in the first conv layer\), got '0'/],
    [['--name', '../../x'], /--name: '\.\.\/\.\.\/x' holds a path separator/],
  ];
  for (const [args, message] of cases) {
    const r = cli(['train', '--dataroot', root, '--checkpoints_dir', ck, '--name', 'run', ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.deepEqual(readdirSync(root), [], 'no checkpoints folder, and nothing beside it (../../x)');
});

test('train → test: a partial last batch is trained, --no_html names no page, and test\'s --label errors name the user\'s file', async (t) => {
  const root = tempDir(t);
  const data = join(root, 'data');
  const ck = join(root, 'checkpoints');
  const results = join(root, 'results');
  assert.equal(cli(['make-dataset', 'synthetic', '--out', data, '--n', '3', '--n_test', '1', '--size', '64x32', '--seed', '3']).status, 0);

  // 3 images in batches of 2: the official loader (drop_last=False) trains on all 3 each epoch.
  const trained = cli(['train', ...tinyTrainArgs(data, ck, 'tiny'), '--niter', '1', '--niter_decay', '0', '--batchSize', '2', '--serial_batches', '--no_instance', '--print_freq', '2']);
  assert.equal(trained.status, 0, trained.stderr);
  assert.match(trained.stdout, /done: 3 iterations; checkpoints in /);
  assert.doesNotMatch(trained.stdout, /web\/index\.html/, '--no_html writes no page, and none is named');
  assert.ok(!existsSync(join(ck, 'tiny', 'web', 'index.html')));
  // print_freq 2: steps 2 and 3 (the batch of 1) pass one multiple of 2, so one loss line, not two.
  const logged = readFileSync(join(ck, 'tiny', 'loss_log.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { total_steps: number }).total_steps);
  assert.deepEqual(logged, [2]);

  const testArgs = ['test', '--name', 'tiny', '--checkpoints_dir', ck, '--results_dir', results, '--threads', '1'];
  const temporaryCopies = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('pix2pixhd-test-'));
  const before = temporaryCopies();

  // A map smaller than G can take (n_downsample_global 2: at least 5 pixels a side).
  const small = join(root, 'maps', 'small.png');
  await writeGrey8(small, 8, 4, () => 7);
  const tooSmall = cli([...testArgs, '--label', small]);
  assert.equal(tooSmall.status, 1, tooSmall.stderr);
  assert.match(tooSmall.stderr, new RegExp(`${small.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is too small for the generator \\(8×4\\): .*every side must be at least 5 pixels`));
  assert.doesNotMatch(tooSmall.stderr, /Padding size/, 'not libtorch\'s message');

  // A map holding an id that is not a class: the message names the user's file, not a copy.
  const badIds = join(root, 'maps', 'bad_ids.png');
  await writeGrey8(badIds, 16, 16, (x) => (x < 8 ? 7 : 200));
  const notClasses = cli([...testArgs, '--label', badIds]);
  assert.equal(notClasses.status, 1, notClasses.stderr);
  assert.ok(notClasses.stderr.includes(`${badIds}: label ids must be below label_nc 35`), notClasses.stderr);

  // A folder given as --label: refused by name, no EISDIR.
  const folder = cli([...testArgs, '--label', join(root, 'maps')]);
  assert.equal(folder.status, 2, folder.stderr);
  assert.match(folder.stderr, /--label .*maps: a folder, not an image file/);
  assert.doesNotMatch(folder.stderr, /EISDIR/);

  assert.ok(!existsSync(results), 'no results folder for maps that were refused');
  assert.deepEqual(temporaryCopies().filter((n) => !before.includes(n)), [], 'no temporary folder left behind');

  // serve on a port in use: the port named, and the command ends (exit 1) instead of waiting forever.
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.after(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  const served = cli(['serve', '--name', 'tiny', '--checkpoints_dir', ck, '--port', String(port), '--threads', '1']);
  assert.equal(served.status, 1, served.stderr);
  assert.match(served.stderr, new RegExp(`port ${port} is in use on 127\\.0\\.0\\.1`));
  assert.doesNotMatch(served.stderr, /EADDRINUSE/);
});
