// The editor's HTTP API: what it answers, and every kind of bad input refused with a 4xx and a
// message — oversize uploads, wrong image types and sizes, class ids ≥ label_nc, unknown
// instances in style choices, malformed JSON, paths outside its own files — while it keeps serving.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { serveCommand } from '../../src/cli/commands/serve.js';
import { writeClusterFile } from '../../src/features/cluster-file.js';
import { OptionError } from '../../src/options/parse.js';
import type { EditorServer } from '../../src/server/app.js';
import { LIMITS } from '../../src/server/limits.js';
import { CAR, carStyles, decodeIds, encodeIds, fetchScene, HEIGHT, makeTinyRun, pngPixels, startTinyServer, synthesizeRequest, WIDTH, type TinyRun } from './helpers.js';

let run: TinyRun;
let server: EditorServer;
let base: string;
let scene: Awaited<ReturnType<typeof fetchScene>>;

before(async () => {
  run = await makeTinyRun({ instanceFeat: true });
  server = await startTinyServer(run);
  base = server.url;
  scene = await fetchScene(base);
});

after(async () => {
  await server?.close();
  run?.cleanup();
});

const url = (path: string): URL => new URL(path, base);

async function errorOf(res: Response): Promise<string> {
  const body = (await res.json()) as { error?: string };
  assert.equal(typeof body.error, 'string', 'errors come as JSON {error}');
  return body.error!;
}

async function expectError(res: Response | Promise<Response>, status: number, message: RegExp): Promise<void> {
  const r = await res;
  assert.equal(r.status, status);
  assert.match(await errorOf(r), message);
}

function sceneBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { width: scene.width, height: scene.height, label: encodeIds(scene.label), inst: encodeIds(scene.inst), ...extra };
}

const post = (path: string, body: string | Buffer, type = 'application/octet-stream'): Promise<Response> =>
  fetch(url(path), { method: 'POST', headers: { 'Content-Type': type }, body: typeof body === 'string' ? body : new Uint8Array(body) });

async function greyPng(width: number, height: number, value = 7, depth: 8 | 16 = 8): Promise<Buffer> {
  if (depth === 16) {
    return sharp(new Uint16Array(width * height).fill(value), { raw: { width, height, channels: 1 } }).toColourspace('grey16').png().toBuffer();
  }
  return sharp(new Uint8Array(width * height).fill(value), { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toBuffer();
}

/** A raw HTTP GET whose path is sent exactly as written (fetch would normalise the dots away). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A raw HTTP request with the headers given exactly (fetch sets Host and Origin itself). */
function rawRequest(target: string, method: string, path: string, headers: Record<string, string>, body = ''): Promise<{ status: number; body: string }> {
  const u = new URL(target);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('who may ask (DNS rebinding)', () => {
  test('only the host names the editor was bound for; a POST only from its own page', async () => {
    const port = new URL(base).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, '[::1]', 'localhost']) {
      assert.equal((await rawRequest(base, 'GET', '/api/info', { Host: host })).status, 200, `Host: ${host}`);
    }
    for (const host of [`attacker.example:${port}`, 'attacker.example', `localhost.attacker.example:${port}`, `127.0.0.1.nip.io:${port}`]) {
      const r = await rawRequest(base, 'GET', '/api/info', { Host: host });
      assert.equal(r.status, 403, `Host: ${host}`);
      assert.match(JSON.parse(r.body).error as string, /is not one this editor serves .*--allowed_hosts/);
    }
    const json = { Host: `127.0.0.1:${port}`, 'Content-Type': 'application/json' };
    const body = JSON.stringify({ role: 'inst', width: scene.width, height: scene.height, ids: encodeIds(scene.inst) });
    assert.equal((await rawRequest(base, 'POST', '/api/encode', { ...json, Origin: `http://127.0.0.1:${port}` }, body)).status, 200, 'its own page');
    assert.equal((await rawRequest(base, 'POST', '/api/encode', { ...json, Origin: `http://localhost:${port}` }, body)).status, 200, 'its own page by name');
    assert.equal((await rawRequest(base, 'POST', '/api/encode', json, body)).status, 200, 'a client that is not a browser sends no Origin');
    for (const origin of ['http://attacker.example', `http://attacker.example:${port}`, 'http://127.0.0.1:1', 'null', `https://127.0.0.1:${port}`]) {
      const r = await rawRequest(base, 'POST', '/api/encode', { ...json, Origin: origin }, body);
      assert.equal(r.status, 403, `Origin: ${origin}`);
      assert.match(JSON.parse(r.body).error as string, /from the page of another site .* is refused/);
    }
  });
});

describe('what the server answers', () => {
  test('the page and its two files; nothing else from the disk', async () => {
    const page = await fetch(url('/'));
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /pix2pixHD editor/);
    assert.equal((await fetch(url('/editor.js'))).status, 200);
    assert.equal((await fetch(url('/editor.css'))).status, 200);
    for (const path of ['/../../package.json', '/%2e%2e/%2e%2e/package.json', '/..%2f..%2fpackage.json', '/web/editor.js', '/app.ts', '/editor.js/../../app.ts',
      '/api/scenes/..%2F..%2Fcheckpoints%2Ftiny%2Fopt.json', '/api/scenes/../../../../etc/passwd', '//etc/passwd']) {
      const r = await rawGet(path);
      assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
      assert.doesNotMatch(r.body, /"name": "pix2pixhd-ts"|root:|label_nc|import /, `${path} leaks nothing`);
      assert.match(JSON.parse(r.body).error as string, /no such|no scene|bad request/);
    }
  });

  test('/api/info: the run, its classes with names and colours, its styles and the limits', async () => {
    const info = (await (await fetch(url('/api/info'))).json()) as Record<string, any>;
    assert.equal(info.name, 'tiny');
    assert.equal(info.label_nc, 35);
    assert.equal(info.classes.length, 35);
    assert.deepEqual(info.classes[CAR], { id: CAR, name: 'car', color: [0, 0, 142], thing: true });
    assert.equal(info.classes[7].thing, false);
    assert.deepEqual(info.styles.classes, [{ id: CAR, name: 'car', clusters: [
      { index: 0, swatch: [190, 30, 35], count: 4 }, { index: 1, swatch: [35, 70, 175], count: 3 }, { index: 2, swatch: [228, 228, 224], count: 2 },
    ] }]);
    assert.equal(info.limits.maxUploadBytes, LIMITS.maxUploadBytes);
    assert.equal(info.limits.minSide, 8);
    assert.deepEqual(info.blank, { width: WIDTH, height: HEIGHT });
  });

  test('scenes of the run\'s test set, and synthesis of one at its own size', async () => {
    const list = (await (await fetch(url('/api/scenes'))).json()) as { scenes: string[] };
    assert.deepEqual(list.scenes, ['scene_00000', 'scene_00001']);
    assert.equal(scene.width, WIDTH);
    assert.ok(scene.inst.some((id) => id >= CAR * 1000), 'the scene has cars');
    const res = await synthesizeRequest(base, sceneBody({ styles: { [scene.inst.find((id) => id >= CAR * 1000)!]: 2 }, seed: 5 }));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.ok(Number(res.headers.get('x-synthesis-ms')) > 0);
    const img = await pngPixels(Buffer.from(await res.arrayBuffer()));
    assert.deepEqual([img.width, img.height], [WIDTH, HEIGHT]);
    await expectError(fetch(url('/api/scenes/scene_99999')), 404, /no scene 'scene_99999'/);
  });

  test('a size that is not a multiple of G\'s comes back at its own size', async () => {
    const w = 50;
    const h = 37;
    const label = new Uint16Array(w * h).fill(7);
    const res = await synthesizeRequest(base, { width: w, height: h, label: encodeIds(label), inst: encodeIds(label) });
    assert.equal(res.status, 200);
    const img = await pngPixels(Buffer.from(await res.arrayBuffer()));
    assert.deepEqual([img.width, img.height], [w, h]);
  });

  test('encode and decode: an edited map goes out as a PNG and comes back the same', async () => {
    const ids = scene.inst;
    const png = await fetch(url('/api/encode'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ role: 'inst', width: scene.width, height: scene.height, ids: encodeIds(ids) }) });
    assert.equal(png.status, 200);
    const bytes = Buffer.from(await png.arrayBuffer());
    assert.equal((await sharp(bytes).metadata()).depth, 'ushort', 'instance ids above 255 need a 16-bit PNG');
    const back = await post(`/api/decode?role=inst&width=${scene.width}&height=${scene.height}`, bytes, 'image/png');
    assert.equal(back.status, 200);
    const m = (await back.json()) as { width: number; height: number; ids: string };
    assert.deepEqual(decodeIds(m.ids), ids);
  });
});

describe('bad input: a 4xx with a message, and the server keeps serving', () => {
  test(`oversize uploads (over ${LIMITS.maxUploadBytes / 1048576} MiB) and JSON bodies are refused with 413`, async () => {
    const big = Buffer.alloc(LIMITS.maxUploadBytes + 1, 1);
    await expectError(post('/api/decode?role=label', big, 'image/png'), 413, /limit is 8388608 bytes \(8 MiB\)/);
    const json = Buffer.alloc(LIMITS.maxJsonBytes + 10, 0x20);
    await expectError(post('/api/synthesize', json, 'application/json'), 413, /limit/);
    // A body sent without a length (chunked) is cut off at the limit too.
    async function* chunks() {
      for (let i = 0; i < 9; i++) yield new Uint8Array(1024 * 1024);
    }
    const res = await fetch(url('/api/decode?role=label'), { method: 'POST', body: chunks() as unknown as BodyInit, duplex: 'half' } as RequestInit).catch((e: Error) => e);
    if (res instanceof Response) assert.equal(res.status, 413);
    else assert.match(String(res.cause ?? res.message), /ECONNRESET|EPIPE|other side closed|fetch failed|socket/i);
  });

  test('uploads of the wrong type: JPEG, not an image, an empty body', async () => {
    const jpeg = await sharp(new Uint8Array(64 * 64 * 3).fill(9), { raw: { width: 64, height: 64, channels: 3 } }).jpeg().toBuffer();
    await expectError(post('/api/decode?role=label', jpeg, 'image/jpeg'), 415, /JPEG: label maps must be lossless PNG/);
    await expectError(post('/api/decode?role=inst', Buffer.from('hello, not an image'), 'text/plain'), 415, /not a PNG image/);
    await expectError(post('/api/decode?role=label', Buffer.alloc(0)), 400, /empty/);
    await expectError(post('/api/decode?role=labels', await greyPng(64, 64)), 400, /role must be 'label' or 'inst'/);
    const rgb = await sharp(Buffer.from(Array.from({ length: 64 * 64 }, (_, i) => [i % 7, 1, 2]).flat()), { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
    await expectError(post('/api/decode?role=label', rgb), 415, /different values in its channels/);
    await expectError(post('/api/synthesize', JSON.stringify(sceneBody()), 'text/plain'), 415, /Content-Type: application\/json/);
  });

  test('images of the wrong size: too large (read from the header, not decoded), too small, not matching the label map', async () => {
    await expectError(post('/api/decode?role=label', await greyPng(4096, 64)), 400, /4096×64: the editor takes at most 2048×1024/);
    await expectError(post('/api/decode?role=label', await greyPng(6, 40)), 400, /6×40: this run's generator needs at least 8 pixels a side/);
    await expectError(post(`/api/decode?role=inst&width=${WIDTH}&height=${HEIGHT}`, await greyPng(100, 50, 300, 16)), 400, /100×50; the label map open is 256×128/);
    await expectError(synthesizeRequest(base, sceneBody({ width: 4000 })), 400, /at most 2048×1024/);
    await expectError(synthesizeRequest(base, sceneBody({ width: 1.5 })), 400, /integers/);
    await expectError(synthesizeRequest(base, sceneBody({ height: HEIGHT - 1 })), 400, /label holds 65536 bytes; 256×127 uint16 values are 65024/);
    await expectError(synthesizeRequest(base, sceneBody({ inst: 'AAAA' })), 400, /inst holds 3 bytes/);
    await expectError(synthesizeRequest(base, sceneBody({ label: 'not base64!' })), 400, /label is not base64/);
    await expectError(synthesizeRequest(base, sceneBody({ inst: undefined })), 400, /takes an instance map/);
  });

  test('class ids ≥ label_nc, in a request and in an upload', async () => {
    const label = scene.label.slice();
    label[10] = 35;
    label[11] = 40;
    label[12] = 40;
    await expectError(synthesizeRequest(base, sceneBody({ label: encodeIds(label) })), 400, /class ids 35 \(1 px\), 40 \(2 px\): this run has label_nc 35 \(ids 0–34\)/);
    await expectError(post('/api/decode?role=label', await greyPng(64, 64, 200)), 400, /class id 200 \(4096 px\)/);
    const enc = await fetch(url('/api/encode'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ role: 'label', width: scene.width, height: scene.height, ids: encodeIds(label) }) });
    await expectError(enc, 400, /label_nc 35/);
  });

  test('style choices: unknown instances, classes without styles, styles out of range, not an object', async () => {
    await expectError(synthesizeRequest(base, sceneBody({ styles: { 26999: 0 } })), 400, /instance 26999, which is not in the instance map/);
    await expectError(synthesizeRequest(base, sceneBody({ styles: { abc: 0 } })), 400, /instance abc, which is not in the instance map/);
    await expectError(synthesizeRequest(base, sceneBody({ styles: { 7: 0 } })), 400, /instance 7 \(road\) has no styles to choose from; the run has styles for: car/);
    const car = scene.inst.find((id) => id >= CAR * 1000)!;
    await expectError(synthesizeRequest(base, sceneBody({ styles: { [car]: 3 } })), 400, /style 3 for instance \d+: car has styles 0–2/);
    await expectError(synthesizeRequest(base, sceneBody({ styles: { [car]: 'blue' } })), 400, /style blue/);
    await expectError(synthesizeRequest(base, sceneBody({ styles: [1, 2] })), 400, /styles must be an object/);
    await expectError(synthesizeRequest(base, sceneBody({ seed: 'x' })), 400, /seed must be an integer/);
  });

  test('malformed JSON, and JSON that is not an object', async () => {
    await expectError(post('/api/synthesize', '{"width": 256, "height": ', 'application/json'), 400, /not valid JSON/);
    await expectError(post('/api/synthesize', '[1, 2, 3]', 'application/json'), 400, /must be a JSON object/);
    await expectError(post('/api/synthesize', 'null', 'application/json'), 400, /must be a JSON object/);
    await expectError(post('/api/encode', '{"role": "inst"}', 'application/json'), 400, /width and height must be integers/);
  });

  test('unknown routes and wrong methods', async () => {
    await expectError(fetch(url('/api/nothing')), 404, /no such API route/);
    await expectError(fetch(url('/api/synthesize')), 405, /use POST/);
    await expectError(post('/', 'x'), 405, /only GET/);
  });

  test('after all of that the server still synthesises', async () => {
    const info = await fetch(url('/api/info'));
    assert.equal(info.status, 200);
    const stats = ((await info.json()) as { pool: { ready: number; failed: number } }).pool;
    assert.equal(stats.ready, 1);
    assert.equal(stats.failed, 0, 'no request reached a worker and failed there');
    assert.equal((await synthesizeRequest(base, sceneBody())).status, 200);
  });
});

describe('a run without styles', () => {
  test('the page is told why, and style choices are refused', async () => {
    const plain = await makeTinyRun({ scenes: false });
    const s = await startTinyServer(plain);
    try {
      const info = (await (await fetch(new URL('/api/info', s.url))).json()) as { styles: unknown; stylesNote: string; scenesNote: string };
      assert.equal(info.styles, null);
      assert.match(info.stylesNote, /no instance styles/);
      const label = new Uint16Array(64 * 64).fill(7);
      const inst = label.slice();
      inst.fill(26000, 0, 100);
      label.fill(CAR, 0, 100);
      const body = { width: 64, height: 64, label: encodeIds(label), inst: encodeIds(inst) };
      assert.equal((await synthesizeRequest(s.url, body)).status, 200);
      await expectError(synthesizeRequest(s.url, { ...body, styles: { 26000: 0 } }), 400, /this run has no instance styles/);
    } finally {
      await s.close();
      plain.cleanup();
    }
  });
});

describe('pix2pixhd serve', () => {
  test('reads the run folder, binds 127.0.0.1, and refuses options that contradict the run', async () => {
    const sink = { write: () => true } as unknown as NodeJS.WriteStream;
    const s = await serveCommand(['--name', run.name, '--checkpoints_dir', run.checkpoints, '--port', '0'], sink);
    try {
      assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const info = (await (await fetch(new URL('/api/info', s.url))).json()) as { netG: string; sizeMultiple: number; scenesNote: string; styles: unknown; limits: { threadsPerWorker: number } };
      assert.equal(info.netG, 'global');
      assert.equal(info.sizeMultiple, 4);
      assert.match(info.scenesNote, /2 scenes/, 'the data set the run was trained on');
      assert.equal(info.styles, null, 'no clusters computed yet');
      assert.ok(info.limits.threadsPerWorker >= 1 && info.limits.threadsPerWorker <= 2);
    } finally {
      await s.close();
    }
    await assert.rejects(serveCommand(['--name', run.name, '--checkpoints_dir', run.checkpoints, '--ngf', '64'], sink), OptionError);
    // With the run's clusters (what encode-features writes) the page gets its styles.
    writeClusterFile(join(run.runDir, 'features_clustered_010.json'), carStyles());
    const withStyles = await serveCommand(['--name', run.name, '--checkpoints_dir', run.checkpoints, '--port', '0'], sink);
    try {
      const info = (await (await fetch(new URL('/api/info', withStyles.url))).json()) as { styles: { classes: Array<{ id: number; clusters: unknown[] }> } | null };
      assert.deepEqual(info.styles?.classes.map((c) => [c.id, c.clusters.length]), [[CAR, 3]]);
    } finally {
      await withStyles.close();
    }
    await assert.rejects(serveCommand(['--name', 'nothing', '--checkpoints_dir', run.checkpoints, '--port', '0', '--netG', 'global'], sink), /no generator checkpoint/);
  });

  test('--allowed_hosts adds host names; a port in use is an error naming it', async () => {
    const sink = { write: () => true } as unknown as NodeJS.WriteStream;
    const s = await serveCommand(['--name', run.name, '--checkpoints_dir', run.checkpoints, '--port', '0', '--allowed_hosts', 'editor.lan,Box.local'], sink);
    try {
      const port = new URL(s.url).port;
      assert.equal((await rawRequest(s.url, 'GET', '/api/info', { Host: `editor.lan:${port}` })).status, 200);
      assert.equal((await rawRequest(s.url, 'GET', '/api/info', { Host: 'box.local' })).status, 200);
      assert.equal((await rawRequest(s.url, 'GET', '/api/info', { Host: 'other.lan' })).status, 403);
      // The same port again: refused with the port named, not node's bare EADDRINUSE.
      await assert.rejects(serveCommand(['--name', run.name, '--checkpoints_dir', run.checkpoints, '--port', port], sink),
        new RegExp(`^Error: port ${port} is in use on 127\\.0\\.0\\.1 .*--port 0 for any free port`));
    } finally {
      await s.close();
    }
  });
});
