import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTempName, tempPathFor, writeFileAtomic } from '../../src/util/atomic-file.js';

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'p2phd-atomic-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('writeFileAtomic writes strings, bytes and chunk streams', async (t) => {
  const dir = tmp(t);
  await writeFileAtomic(join(dir, 'a.txt'), 'héllo');
  await writeFileAtomic(join(dir, 'b.bin'), new Uint8Array([0, 255, 7]));
  await writeFileAtomic(join(dir, 'c.txt'), ['one ', new TextEncoder().encode('two '), 'three']);
  async function* gen() {
    yield 'x';
    yield 'y';
  }
  await writeFileAtomic(join(dir, 'd.txt'), gen());
  assert.equal(readFileSync(join(dir, 'a.txt'), 'utf8'), 'héllo');
  assert.deepEqual([...readFileSync(join(dir, 'b.bin'))], [0, 255, 7]);
  assert.equal(readFileSync(join(dir, 'c.txt'), 'utf8'), 'one two three');
  assert.equal(readFileSync(join(dir, 'd.txt'), 'utf8'), 'xy');
  assert.deepEqual(readdirSync(dir).sort(), ['a.txt', 'b.bin', 'c.txt', 'd.txt']);
  assert.ok(isTempName(join(tempPathFor(join(dir, 'index.html'))).split('/').pop()!));
});

test('writeFileAtomic: an error while producing the content leaves the old file and no temporary', async (t) => {
  const dir = tmp(t);
  const target = join(dir, 'index.html');
  writeFileSync(target, 'old page');
  let wrote = 0;
  async function* failing() {
    yield '<html>half a page';
    wrote++;
    throw new Error('renderer crashed');
  }
  await assert.rejects(writeFileAtomic(target, failing()), /renderer crashed/);
  assert.equal(wrote, 1); // the first chunk did reach the temporary file
  assert.equal(readFileSync(target, 'utf8'), 'old page');
  assert.deepEqual(readdirSync(dir), ['index.html']);
});

test('writeFileAtomic: a failed rename leaves no temporary and nothing in place of the target', async (t) => {
  const dir = tmp(t);
  const target = join(dir, 'taken');
  mkdirSync(target);
  writeFileSync(join(target, 'inside'), 'x'); // a non-empty directory cannot be replaced by a file
  await assert.rejects(writeFileAtomic(target, 'data'));
  assert.deepEqual(readdirSync(dir), ['taken']);
  assert.deepEqual(readdirSync(target), ['inside']);
  // A missing folder fails before anything is created.
  await assert.rejects(writeFileAtomic(join(dir, 'no', 'such', 'file'), 'data'), /ENOENT/);
});
