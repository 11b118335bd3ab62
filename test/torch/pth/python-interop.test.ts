// Cross-checks with real PyTorch; runs only where `/usr/bin/python3 -c "import torch"` works.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  isRawTensor, PyBytes, PyDict, PyFloat, pyFloat, PyTuple, readPthFile, tuple, writePthFile,
  type PyValue, type RawTensor,
} from '../../../src/torch/pth/index.js';

const PY = '/usr/bin/python3';

function torchAvailable(): string | undefined {
  if (!fs.existsSync(PY)) return `${PY} not found`;
  const r = spawnSync(PY, ['-c', 'import torch'], { encoding: 'utf-8', timeout: 180_000 });
  if (r.status !== 0) return `python3 cannot import torch: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  return undefined;
}
const skipReason = torchAvailable();

function python(script: string, args: string[]): unknown {
  const r = spawnSync(PY, ['-c', script, ...args], { encoding: 'utf-8', timeout: 300_000, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `python failed:\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}

// The same description of a value on both sides: ints as decimal strings, floats as numbers
// (non-finite as Python's repr), tensors with dtype, shape, requires_grad and their values.
const PY_DESC = String.raw`
import math, json, torch
HALF = (torch.float16, torch.bfloat16)
def num(x):
    return x if math.isfinite(x) else repr(x)
def desc(v):
    if isinstance(v, torch.Tensor):
        d = {'tensor': str(v.dtype), 'shape': list(v.shape), 'rg': bool(v.requires_grad)}
        w = v.detach()
        if w.dtype in HALF:
            d['bits'] = (w.contiguous().view(torch.int16).to(torch.int32) & 0xffff).flatten().tolist()
        elif w.is_floating_point():
            d['values'] = [num(x) for x in w.flatten().tolist()]
        else:
            d['values'] = [str(int(x)) for x in w.flatten().tolist()]
        return d
    if isinstance(v, bool): return {'bool': v}
    if isinstance(v, int): return {'int': str(v)}
    if isinstance(v, float): return {'float': num(v)}
    if isinstance(v, str): return {'str': v}
    if v is None: return None
    if isinstance(v, bytes): return {'bytes': list(v)}
    if isinstance(v, tuple): return {'tuple': [desc(x) for x in v]}
    if isinstance(v, (list, set, frozenset)): return {'list': [desc(x) for x in v]}
    if isinstance(v, dict):
        d = {type(v).__name__: [[desc(k), desc(x)] for k, x in v.items()]}
        if hasattr(v, '_metadata'): d['meta'] = desc(v._metadata)
        return d
    return {'other': repr(type(v))}
`;

type Desc = unknown;
const num = (x: number): number | string => (Number.isFinite(x) ? x : Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf');

/** TypeScript twin of PY_DESC (for values read with `wrapFloats`, or values about to be written). */
function desc(v: PyValue | undefined): Desc {
  if (v === null || v === undefined) return null;
  if (isRawTensor(v)) {
    const d: Record<string, unknown> = { tensor: `torch.${v.dtype}`, shape: v.shape, rg: Boolean(v.requiresGrad) };
    if (v.dtype === 'float16' || v.dtype === 'bfloat16') d['bits'] = [...v.data];
    else if (v.dtype === 'float32' || v.dtype === 'float64') d['values'] = [...(v.data as Float32Array)].map(num);
    else d['values'] = [...(v.data as Int32Array)].map((x) => String(x));
    return d;
  }
  if (typeof v === 'boolean') return { bool: v };
  if (typeof v === 'bigint') return { int: String(v) };
  if (typeof v === 'number') return Number.isSafeInteger(v) && !Object.is(v, -0) ? { int: String(v) } : { float: num(v) };
  if (v instanceof PyFloat) return { float: num(v.value) };
  if (typeof v === 'string') return { str: v };
  if (v instanceof PyBytes) return { bytes: [...v.bytes] };
  if (v instanceof PyTuple) return { tuple: v.items.map(desc) };
  if (Array.isArray(v)) return { list: v.map(desc) };
  if (v instanceof PyDict) {
    const d: Record<string, unknown> = { [v.ordered ? 'OrderedDict' : 'dict']: [...v].map(([k, x]) => [desc(k), desc(x)]) };
    const meta = v.attrs?.get('_metadata');
    if (meta !== undefined) d['meta'] = desc(meta);
    return d;
  }
  throw new Error('unexpected value');
}

function tensor(dtype: RawTensor['dtype'], shape: number[], data: RawTensor['data'], requiresGrad = false): RawTensor {
  return { kind: 'tensor', dtype, shape, data, ...(requiresGrad ? { requiresGrad } : {}) };
}

test('TS writePthFile → torch.load', { skip: skipReason }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pth-py-'));
  try {
    // A state dict for nn.Linear(3, 2), with the _metadata a real one carries.
    const sd = PyDict.ordered([
      ['weight', tensor('float32', [2, 3], new Float32Array([0.5, -1, 2, 1, 1, 1]))],
      ['bias', tensor('float32', [2], new Float32Array([0.25, -3]))],
    ]);
    sd.attrs = new Map([['_metadata', PyDict.ordered([['', new PyDict([['version', 1]])]])]]);
    const sdPath = path.join(dir, 'linear.pth');
    writePthFile(sdPath, sd);

    const expAvg = tensor('float32', [2, 2], new Float32Array([0.1, 0.2, 0.3, 0.4]));
    const misc = new PyDict([
      ['state', new PyDict([[0, new PyDict([['step', 3], ['exp_avg', expAvg]])]])],
      ['param_groups', [new PyDict([['lr', 0.0002], ['betas', tuple(0.5, 0.999)], ['weight_decay', 0],
        ['momentum', pyFloat(1)], ['params', [0]]])]],
      ['f64', tensor('float64', [2], new Float64Array([Math.PI, -0]))],
      ['f16', tensor('float16', [2], new Uint16Array([0x3e00, 0xc000]))], // 1.5, -2
      ['bf16', tensor('bfloat16', [2], new Uint16Array([0x3fc0, 0x4040]))], // 1.5, 3
      ['i64', tensor('int64', [2], new BigInt64Array([-(2n ** 62n), 7n]))],
      ['i32', tensor('int32', [1, 2], new Int32Array([-5, 6]))],
      ['i16', tensor('int16', [1], new Int16Array([-300]))],
      ['i8', tensor('int8', [2], new Int8Array([-128, 127]))],
      ['u8', tensor('uint8', [2], new Uint8Array([0, 255]))],
      ['bool', tensor('bool', [3], new Uint8Array([1, 0, 1]))],
      ['scalar', tensor('float32', [], new Float32Array([2.5]), true)],
      ['empty', tensor('float32', [0, 3], new Float32Array(0))],
      ['big', 2n ** 70n], ['neg', -(2n ** 65n)], ['nan', NaN], ['minus0', -0], ['none', null], ['yes', true],
      ['bytes', new PyBytes(Uint8Array.from([0, 255, 97]))], ['text', 'héllo ✓'],
      ['nested', [tuple(1, [tuple()]), new PyDict([[-1, 'x'], [2.5, 'y']])]],
    ]);
    const miscPath = path.join(dir, 'misc.pth');
    writePthFile(miscPath, misc);

    const out = python(String.raw`${PY_DESC}
import sys, zipfile, struct
sd = torch.load(sys.argv[1])
m = torch.nn.Linear(3, 2)
m.load_state_dict(sd)
y = m(torch.tensor([[1.0, 2.0, 3.0]])).tolist()
misc = torch.load(sys.argv[2])
aligned = []
for p in sys.argv[1:3]:
    with zipfile.ZipFile(p) as z:
        assert z.testzip() is None
        with open(p, 'rb') as f:
            for info in z.infolist():
                f.seek(info.header_offset)
                h = f.read(30)
                n, e = struct.unpack('<HH', h[26:30])
                aligned.append((info.header_offset + 30 + n + e) % 64 == 0)
print(json.dumps({'sd_type': type(sd).__name__, 'sd': desc(sd), 'y': y, 'misc': desc(misc),
                  'types': [type(misc['state'][0]['step']).__name__, type(misc['param_groups'][0]['lr']).__name__,
                            type(misc['param_groups'][0]['momentum']).__name__],
                  'aligned': aligned}))
`, [sdPath, miscPath]) as Record<string, unknown>;

    assert.equal(out['sd_type'], 'OrderedDict');
    assert.deepEqual(out['y'], [[4.75, 3]]); // W·x + b worked out by hand
    assert.deepEqual(out['types'], ['int', 'float', 'float']);
    assert.ok((out['aligned'] as boolean[]).length >= 20 && (out['aligned'] as boolean[]).every(Boolean));
    assert.deepEqual(out['sd'], desc(sd));
    assert.deepEqual(out['misc'], desc(misc));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('torch.save (zip, legacy, protocol 4) → TS readPthFile', { skip: skipReason }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pth-py-'));
  try {
    const files = ['zip.pth', 'legacy.pth', 'proto4.pth'].map((f) => path.join(dir, f));
    const expected = python(String.raw`${PY_DESC}
import sys, collections
torch.manual_seed(0)
base = torch.arange(12, dtype=torch.float32).reshape(3, 4) - 5.5
lin = torch.nn.Linear(2, 2)
opt = torch.optim.Adam(lin.parameters(), lr=2e-4, betas=(0.5, 0.999))
lin(torch.ones(1, 2)).sum().backward()
opt.step()
obj = {
    'base': base, 'T': base.t(), 'slice': base[1:, 1:3], 'col': base[:, 2], 'step2': base[::2, ::3],
    'long': torch.tensor([[1, -2], [2**40, 3]]).t(), 'f64': torch.tensor([1e-300, -2.5], dtype=torch.float64),
    'half': torch.tensor([[1.5, -2.0], [0.1, 65504]], dtype=torch.float16).t(),
    'bf16': torch.tensor([1.5, 3.0, -0.1], dtype=torch.bfloat16),
    'bool': torch.tensor([True, False, True]), 'u8': torch.tensor([0, 255], dtype=torch.uint8),
    'i8': torch.tensor([-128, 127], dtype=torch.int8), 'i16': torch.tensor([-300], dtype=torch.int16),
    'i32': torch.tensor([[7], [-8]], dtype=torch.int32), 'scalar': torch.tensor(3.5),
    'param': torch.nn.Parameter(torch.ones(2)), 'empty': torch.zeros(0, 4),
    'ints': {0: 'a', -5: 'b', 2**70: 'c'}, 'tup': (1, 2.5, 'x', None, True, 1.0),
    'od': collections.OrderedDict([('z', 1), ('a', 2)]), 'big': 2**70, 'neg': -2**65,
    'bytes': b'\x00\xffab', 'nan': float('nan'), 'inf': float('-inf'), 'text': 'h\u00e9llo \u2713',
    'set': {3}, 'opt': opt.state_dict(), 'sd': lin.state_dict(),
}
torch.save(obj, sys.argv[1])
torch.save(obj, sys.argv[2], _use_new_zipfile_serialization=False)
torch.save(obj, sys.argv[3], pickle_protocol=4)
print(json.dumps(desc(obj)))
`, files);
    for (const f of files) {
      const v = readPthFile(f, { wrapFloats: true });
      assert.deepEqual(desc(v), expected, path.basename(f));
      const d = v as PyDict;
      // the views were saved sharing one storage; each must have its own resolved data
      assert.deepEqual([...((d.get('T') as RawTensor).data)].slice(0, 4), [-5.5, -1.5, 2.5, -4.5]);
      assert.equal((d.get('param') as RawTensor).requiresGrad, true);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
