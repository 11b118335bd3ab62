// Pickles written opcode by opcode in the test; expected values worked out by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRawTensor, PyBytes, PyDict, PyFloat, PyTuple, readPth, type RawTensor } from '../../../src/torch/pth/index.js';
import {
  APPEND, APPENDS, BINFLOAT, BINGET, BININT, BININT1, BININT2, BINPERSID, BINPUT, BINUNICODE, BINUNICODE8, BUILD,
  EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE, FRAME, GLOBAL, LONG1, MARK, MEMOIZE, NEWFALSE, NEWOBJ, NEWTRUE, NONE,
  PROTO, REDUCE, SETITEM, SETITEMS, SHORT_BINBYTES, SHORT_BINSTRING, SHORT_BINUNICODE, STACK_GLOBAL, STOP,
  TUPLE, TUPLE1, TUPLE2, TUPLE3, bytesOf, pkl, rebuildTensor, storagePid, zipPth,
} from './pickle-bytes.js';

test('int keys (incl. negative and beyond 2^53), insertion order kept', () => {
  // {3: 'c', 0: 'a', -2: 'm', 2**64: 'big', 'k': 1}
  const p = pkl(PROTO(2), EMPTY_DICT, BINPUT(0), MARK,
    BININT1(3), BINUNICODE('c'),
    BININT1(0), BINUNICODE('a'),
    BININT(-2), BINUNICODE('m'),
    LONG1([0, 0, 0, 0, 0, 0, 0, 0, 1]), BINUNICODE('big'),
    BINUNICODE('k'), BININT1(1),
    SETITEMS, STOP);
  const v = readPth(zipPth(p), 'intkeys.pth');
  assert.ok(v instanceof PyDict);
  assert.equal(v.ordered, false);
  assert.deepEqual([...v.keys()], [3, 0, -2, 2n ** 64n, 'k']);
  assert.equal(v.get(3), 'c');
  assert.equal(v.get(-2), 'm');
  assert.equal(v.get(2n ** 64n), 'big');
  assert.equal(v.get('k'), 1);
});

test('ints and floats: BININT*, LONG1 signs, BINFLOAT', () => {
  const p = pkl(PROTO(2), MARK,
    BININT1(255), BININT2(65535), BININT(-2147483648), BININT(2147483647),
    LONG1([0xff]), // -1
    LONG1([0x00, 0x80]), // -32768
    LONG1([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00]), // 2**53 - 1
    LONG1([0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00]), // 2**53 (not safe → bigint)
    LONG1([0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80]), // -2**63
    LONG1([]), // 0
    BINFLOAT(0.0002), BINFLOAT(1), BINFLOAT(-Infinity),
    0x6c /* LIST */, STOP);
  const v = readPth(zipPth(p), 'nums.pth');
  assert.deepEqual(v, [255, 65535, -2147483648, 2147483647, -1, -32768, 2 ** 53 - 1, 2n ** 53n, -(2n ** 63n), 0,
    0.0002, 1, -Infinity]);
  const w = readPth(zipPth(p), 'nums.pth', { wrapFloats: true }) as unknown[];
  assert.ok(w[10] instanceof PyFloat && w[10].value === 0.0002);
  assert.ok(w[11] instanceof PyFloat && w[11].value === 1);
  assert.equal(w[0], 255);
});

test('tuples: EMPTY_TUPLE, TUPLE1-3, MARK…TUPLE, nested', () => {
  // ((), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), ((0.5, 0.999), 'x'))
  const p = pkl(PROTO(2), MARK,
    EMPTY_TUPLE,
    BININT1(1), TUPLE1,
    BININT1(1), BININT1(2), TUPLE2,
    BININT1(1), BININT1(2), BININT1(3), TUPLE3,
    MARK, BININT1(1), BININT1(2), BININT1(3), BININT1(4), TUPLE,
    BINFLOAT(0.5), BINFLOAT(0.999), TUPLE2, BINUNICODE('x'), TUPLE2,
    TUPLE, STOP);
  const v = readPth(zipPth(p), 'tuples.pth');
  assert.ok(v instanceof PyTuple);
  const items = v.items.map((x) => (x instanceof PyTuple ? x.items : x));
  assert.deepEqual(items.slice(0, 5), [[], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4]]);
  const last = v.items[5] as PyTuple;
  assert.ok(last.items[0] instanceof PyTuple);
  assert.deepEqual((last.items[0] as PyTuple).items, [0.5, 0.999]);
  assert.equal(last.items[1], 'x');
});

test('nested dicts, lists, OrderedDict with BUILD _metadata, memo sharing, strings, bytes, None/bools', () => {
  // {'state': {0: {'step': 3, 'buf': [1, 2]}}, 'od': OrderedDict(a=None) with _metadata, 'same': <memo 2>,
  //  'flags': [True, False], 's': py2 str, 'b': b'\x00\xff', 'u': 'é'}
  const p = pkl(PROTO(2), EMPTY_DICT, BINPUT(0),
    BINUNICODE('state'), EMPTY_DICT, BINPUT(1),
    BININT1(0), EMPTY_DICT, MARK, BINUNICODE('step'), BININT1(3), BINUNICODE('buf'), EMPTY_LIST, BINPUT(2),
    BININT1(1), APPEND, BININT1(2), APPEND, SETITEMS,
    SETITEM, SETITEM,
    BINUNICODE('od'), GLOBAL('collections', 'OrderedDict'), EMPTY_TUPLE, REDUCE,
    BINUNICODE('a'), NONE, SETITEM,
    EMPTY_DICT, BINUNICODE('_metadata'), GLOBAL('collections', 'OrderedDict'), EMPTY_TUPLE, REDUCE,
    BINUNICODE(''), EMPTY_DICT, BINUNICODE('version'), BININT1(1), SETITEM, SETITEM, SETITEM,
    BUILD, SETITEM,
    BINUNICODE('same'), BINGET(2), SETITEM,
    BINUNICODE('flags'), EMPTY_LIST, MARK, NEWTRUE, NEWFALSE, APPENDS, SETITEM,
    BINUNICODE('s'), SHORT_BINSTRING('py2'), SETITEM,
    BINUNICODE('b'), SHORT_BINBYTES([0, 255]), SETITEM,
    BINUNICODE('u'), [0x58, 2, 0, 0, 0, 0xc3, 0xa9], SETITEM,
    STOP);
  const v = readPth(zipPth(p), 'nested.pth');
  assert.ok(v instanceof PyDict);
  assert.deepEqual([...v.keys()], ['state', 'od', 'same', 'flags', 's', 'b', 'u']);
  const state = v.get('state') as PyDict;
  const s0 = state.get(0) as PyDict;
  assert.equal(s0.get('step'), 3);
  assert.deepEqual(s0.get('buf'), [1, 2]);
  assert.equal(v.get('same'), s0.get('buf'), 'BINGET returns the same list object');
  const od = v.get('od') as PyDict;
  assert.equal(od.ordered, true);
  assert.deepEqual([...od.entries()], [['a', null]]);
  const meta = od.attrs?.get('_metadata') as PyDict;
  assert.equal((meta.get('') as PyDict).get('version'), 1);
  assert.deepEqual(v.get('flags'), [true, false]);
  assert.equal(v.get('s'), 'py2');
  const b = v.get('b');
  assert.ok(b instanceof PyBytes);
  assert.deepEqual([...b.bytes], [0, 255]);
  assert.equal(v.get('u'), 'é');
});

test('protocol 4 opcodes: FRAME, MEMOIZE, SHORT_BINUNICODE, BINUNICODE8, STACK_GLOBAL, NEWOBJ', () => {
  const body = pkl(
    SHORT_BINUNICODE('collections'), MEMOIZE, SHORT_BINUNICODE('OrderedDict'), MEMOIZE, STACK_GLOBAL, MEMOIZE,
    EMPTY_TUPLE, NEWOBJ, MEMOIZE,
    SHORT_BINUNICODE('w'), MEMOIZE, BINUNICODE8('long'), SETITEM,
    SHORT_BINUNICODE('again'), [0x68, 1] /* BINGET 1 = 'OrderedDict' */, SETITEM,
    STOP);
  const p = pkl(PROTO(4), FRAME(body.length), body);
  const v = readPth(zipPth(p), 'p4.pth');
  assert.ok(v instanceof PyDict && v.ordered);
  assert.deepEqual([...v.entries()], [['w', 'long'], ['again', 'OrderedDict']]);
});

test('views of one storage: offset, transposed (non-contiguous), strided slices; float32/int64/float16', () => {
  // storage '0' float32 [0, 1, 2, 3, 4, 5]
  const f32 = bytesOf(new Float32Array([0, 1, 2, 3, 4, 5]));
  // storage '1' int64 [10, -11, 2**40 + 1, 13, 14, 15]
  const i64 = bytesOf(new BigInt64Array([10n, -11n, 2n ** 40n + 1n, 13n, 14n, 15n]));
  // storage '2' float16 bits [0x3c00 (1), 0x4000 (2), 0x4200 (3), 0x4400 (4)]
  const f16 = bytesOf(new Uint16Array([0x3c00, 0x4000, 0x4200, 0x4400]));

  const pidF = [...storagePid('FloatStorage', '0', 6), ...BINPUT(10)];
  const again = BINGET(10);
  const p = pkl(PROTO(2), EMPTY_DICT, MARK,
    BINUNICODE('a'), rebuildTensor(pidF, 0, [2, 3], [3, 1]), // [[0,1,2],[3,4,5]]
    BINUNICODE('aT'), rebuildTensor(again, 0, [3, 2], [1, 3]), // transpose → [[0,3],[1,4],[2,5]]
    BINUNICODE('col1'), rebuildTensor(again, 1, [2], [3]), // a[:, 1] → [1, 4]
    BINUNICODE('tail'), rebuildTensor(again, 4, [2], [1]), // [4, 5]
    BINUNICODE('bcast'), rebuildTensor(again, 2, [2, 2], [0, 1]), // expand of [2,3] → [[2,3],[2,3]]
    BINUNICODE('scalar'), rebuildTensor(again, 5, [], []), // 5
    BINUNICODE('empty'), rebuildTensor(again, 0, [0, 3], [3, 1]),
    BINUNICODE('L'), rebuildTensor(storagePid('LongStorage', '1', 6), 0, [3, 2], [1, 3]), // [[10,13],[-11,14],[2^40+1,15]]
    BINUNICODE('H'), rebuildTensor(storagePid('HalfStorage', '2', 4), 1, [2], [2]), // bits [0x4000, 0x4400]
    SETITEMS, STOP);
  const v = readPth(zipPth(p, { 0: f32, 1: i64, 2: f16 }), 'views.pth') as PyDict;
  const get = (k: string): RawTensor => {
    const t = v.get(k);
    assert.ok(isRawTensor(t), k);
    return t;
  };
  assert.deepEqual([...get('a').data], [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(get('aT').shape, [3, 2]);
  assert.deepEqual([...get('aT').data], [0, 3, 1, 4, 2, 5]);
  assert.deepEqual([...get('col1').data], [1, 4]);
  assert.deepEqual([...get('tail').data], [4, 5]);
  assert.deepEqual([...get('bcast').data], [2, 3, 2, 3]);
  assert.deepEqual(get('scalar').shape, []);
  assert.deepEqual([...get('scalar').data], [5]);
  assert.deepEqual(get('empty').shape, [0, 3]);
  assert.equal(get('empty').data.length, 0);
  const L = get('L');
  assert.equal(L.dtype, 'int64');
  assert.deepEqual([...L.data], [10n, 13n, -11n, 14n, 2n ** 40n + 1n, 15n]);
  const H = get('H');
  assert.equal(H.dtype, 'float16');
  assert.ok(H.data instanceof Uint16Array);
  assert.deepEqual([...H.data], [0x4000, 0x4400]);
  // each view has its own buffer: writing to one leaves the others alone
  (get('aT').data as Float32Array)[0] = 99;
  assert.equal(get('a').data[0], 0);
});

test('a view reaching past its storage is an error naming the file', () => {
  const p = pkl(PROTO(2), rebuildTensor(storagePid('FloatStorage', '0', 4), 1, [2, 2], [2, 1]), STOP);
  assert.throws(() => readPth(zipPth(p, { 0: bytesOf(new Float32Array(4)) }), 'oob.pth'),
    (e: Error) => /^oob\.pth: /.test(e.message) && /storage/.test(e.message));
});

test('Parameter via _rebuild_parameter → the tensor with requiresGrad', () => {
  const p = pkl(PROTO(2), GLOBAL('torch._utils', '_rebuild_parameter'),
    rebuildTensor(storagePid('DoubleStorage', '0', 2), 0, [2], [1]), NEWTRUE,
    GLOBAL('collections', 'OrderedDict'), EMPTY_TUPLE, REDUCE, TUPLE3, REDUCE, STOP);
  const t = readPth(zipPth(p, { 0: bytesOf(new Float64Array([1.5, -2.25])) }), 'param.pth');
  assert.ok(isRawTensor(t));
  assert.equal(t.dtype, 'float64');
  assert.equal(t.requiresGrad, true);
  assert.deepEqual([...t.data], [1.5, -2.25]);
});

test('legacy format built by hand: storage view metadata and unaligned data', () => {
  // magic, protocol version, sys_info, object, keys, then for each key: int64 count + bytes
  const magic = pkl(PROTO(2), LONG1([0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]), STOP);
  const proto = pkl(PROTO(2), BININT2(1001), STOP);
  const sys = pkl(PROTO(2), EMPTY_DICT, BINUNICODE('little_endian'), NEWTRUE, SETITEM, STOP);
  // root storage 'r' (int32, 5 elements); a view storage 'v' = r[1:4]
  const pid = (view: boolean) => [
    ...MARK, ...BINUNICODE('storage'), ...GLOBAL('torch', 'IntStorage'), ...BINUNICODE('r'), ...BINUNICODE('cpu'),
    ...BININT1(5), ...(view ? [...BINUNICODE('v'), ...BININT1(1), ...BININT1(3), ...TUPLE3] : NONE), ...TUPLE, 0x51,
  ];
  const obj = pkl(PROTO(2), EMPTY_DICT, MARK,
    BINUNICODE('whole'), rebuildTensor(pid(false), 0, [5], [1]),
    BINUNICODE('view'), rebuildTensor(pid(true), 0, [3], [1]), // [11, 12, 13]
    BINUNICODE('viewT'), rebuildTensor(pid(true), 0, [2], [2]), // [11, 13]
    SETITEMS, STOP);
  const keys = pkl(PROTO(2), EMPTY_LIST, BINUNICODE('r'), APPEND, STOP);
  const count = [5, 0, 0, 0, 0, 0, 0, 0];
  const data = bytesOf(new Int32Array([10, 11, 12, 13, -14]));
  const file = pkl(magic, proto, sys, obj, keys, count, [...data]);
  // As a Node Buffer at an odd offset (Buffer.slice does not copy; element views need alignment).
  const unaligned = Buffer.concat([Buffer.alloc(1), file]).subarray(1);
  const v = readPth(unaligned, 'legacy-hand.pth') as PyDict;
  assert.deepEqual([...(v.get('whole') as RawTensor).data], [10, 11, 12, 13, -14]);
  assert.deepEqual([...(v.get('view') as RawTensor).data], [11, 12, 13]);
  assert.deepEqual([...(v.get('viewT') as RawTensor).data], [11, 13]);
  assert.equal((v.get('view') as RawTensor).dtype, 'int32');
});

test('legacy format as PyTorch ≤ 0.3 wrote it from Python 2: _rebuild_tensor (v1) views, storage views, [key, value] list pairs', () => {
  // torch.save(state_dict) in 2017: Python 2.7's pickle, protocol 2. Before 0.4 a tensor pickled as
  // `torch._utils._rebuild_tensor(storage, storage_offset, size, stride)` (four arguments: no
  // requires_grad, no hooks); Python 2's OrderedDict pickled as `OrderedDict([[k, v], …])`, a list
  // of two-element lists; strings are Python 2 str (SHORT_BINSTRING); storage keys are
  // str(root._cdata), written sorted. The memo is used as Python 2's pickler uses it: GLOBALs and
  // interned strings ('storage', 'cpu') are fetched again with BINGET.
  const memo = new Map<string, number>();
  let next = 0;
  const put = (): number[] => BINPUT(next++);
  const once = (id: string, first: () => number[]): number[] => {
    const i = memo.get(id);
    if (i !== undefined) return BINGET(i);
    const bytes = first();
    memo.set(id, next);
    return [...bytes, ...put()];
  };
  const intTuple = (xs: number[]): number[] => [
    ...(xs.length <= 3 ? [...xs.flatMap((x) => BININT1(x)), ...[EMPTY_TUPLE, TUPLE1, TUPLE2, TUPLE3][xs.length]!]
      : [...MARK, ...xs.flatMap((x) => BININT1(x)), ...TUPLE]),
    ...(xs.length ? put() : []),
  ];
  // ('storage', torch.<cls>, key, 'cpu', root numel, view metadata (view key, offset, size) or None)
  const pid = (cls: string, key: string, numel: number, view?: [string, number, number]): number[] => [
    ...MARK, ...once('storage', () => SHORT_BINSTRING('storage')), ...once(cls, () => GLOBAL('torch', cls)),
    ...SHORT_BINSTRING(key), ...put(), ...once('cpu', () => SHORT_BINSTRING('cpu')), ...BININT1(numel),
    ...(view ? [...SHORT_BINSTRING(view[0]), ...put(), ...BININT1(view[1]), ...BININT1(view[2]), ...TUPLE3, ...put()] : NONE),
    ...TUPLE, ...put(), ...BINPERSID,
  ];
  const rebuild = (storage: () => number[], offset: number, size: number[], stride: number[]) => (): number[] => [
    ...once('_rebuild_tensor', () => GLOBAL('torch._utils', '_rebuild_tensor')),
    ...MARK, ...storage(), ...BININT1(offset), ...intTuple(size), ...intTuple(stride), ...TUPLE, ...put(),
    ...REDUCE, ...put(),
  ];
  const entry = (key: string, value: () => number[]) => (): number[] => [
    ...EMPTY_LIST, ...put(), ...MARK, ...SHORT_BINSTRING(key), ...put(), ...value(), ...APPENDS,
  ];

  // Three root storages (keys as Python 2 sorts them), and a view storage of the third.
  const A = '94148412310016'; // float32 × 10, shared by five tensors
  const B = '94148412312064'; // int64 × 4
  const C = '94148412314112'; // float64 × 6; '94148412314128' is C[2:6]
  const a = () => pid('FloatStorage', A, 10);
  const b = () => pid('LongStorage', B, 4);
  const c = () => pid('DoubleStorage', C, 6);
  const cView = () => pid('DoubleStorage', C, 6, ['94148412314128', 2, 4]);
  const entries = [
    entry('w', rebuild(a, 0, [2, 3], [3, 1])), // A[0:6] as 2×3
    entry('wT', rebuild(a, 0, [3, 2], [1, 3])), // its transpose: not contiguous
    entry('b', rebuild(a, 6, [4], [1])), // A[6:10]: a storage offset
    entry('b_odd', rebuild(a, 7, [2], [2])), // A[7], A[9]: offset and stride 2
    entry('bcast', rebuild(a, 8, [2, 2], [0, 1])), // A[8:10] expanded to 2×2: stride 0
    entry('idx', rebuild(b, 0, [2, 2], [1, 2])), // int64, transposed
    entry('c', rebuild(c, 1, [5], [1])), // C[1:6]
    entry('cv', rebuild(cView, 1, [2], [2])), // offset 1, stride 2 within C[2:6]: C[3], C[5]
  ];
  const obj = pkl(PROTO(2), once('OrderedDict', () => GLOBAL('collections', 'OrderedDict')),
    EMPTY_LIST, put(), MARK, ...entries.map((e) => e()), APPENDS, TUPLE1, put(), REDUCE, put(), STOP);

  const magic = pkl(PROTO(2), LONG1([0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]), STOP);
  const proto = pkl(PROTO(2), BININT2(1001), STOP);
  const sys = pkl(PROTO(2), EMPTY_DICT, BINPUT(0), MARK,
    SHORT_BINSTRING('little_endian'), NEWTRUE,
    SHORT_BINSTRING('type_sizes'), EMPTY_DICT, BINPUT(1), MARK,
    SHORT_BINSTRING('int'), BININT1(4), SHORT_BINSTRING('short'), BININT1(2), SHORT_BINSTRING('long'), BININT1(8), SETITEMS,
    SHORT_BINSTRING('protocol_version'), BININT2(1001), SETITEMS, STOP);
  const keys = pkl(PROTO(2), EMPTY_LIST, BINPUT(0), MARK, SHORT_BINSTRING(A), SHORT_BINSTRING(B), SHORT_BINSTRING(C), APPENDS, STOP);
  const record = (count: number, data: ArrayBufferView): number[] => [count, 0, 0, 0, 0, 0, 0, 0, ...bytesOf(data)];
  const file = pkl(magic, proto, sys, obj, keys,
    record(10, new Float32Array([0.5, -1, 2, 3.25, -4, 5, 6.5, -7, 8, 9])),
    record(4, new BigInt64Array([3n, -1n, 2n ** 40n, 7n])),
    record(6, new Float64Array([1.5, -2.5, 3.5, -4.5, 5.5, -6.5])));

  const v = readPth(file, 'torch03-py2.pth');
  assert.ok(v instanceof PyDict);
  assert.equal(v.ordered, true);
  assert.deepEqual([...v.keys()], ['w', 'wT', 'b', 'b_odd', 'bcast', 'idx', 'c', 'cv']);
  const expected: Record<string, [RawTensor['dtype'], number[], (number | bigint)[]]> = {
    w: ['float32', [2, 3], [0.5, -1, 2, 3.25, -4, 5]],
    wT: ['float32', [3, 2], [0.5, 3.25, -1, -4, 2, 5]],
    b: ['float32', [4], [6.5, -7, 8, 9]],
    b_odd: ['float32', [2], [-7, 9]],
    bcast: ['float32', [2, 2], [8, 9, 8, 9]],
    idx: ['int64', [2, 2], [3n, 2n ** 40n, -1n, 7n]],
    c: ['float64', [5], [-2.5, 3.5, -4.5, 5.5, -6.5]],
    cv: ['float64', [2], [-4.5, -6.5]],
  };
  for (const [k, [dtype, shape, data]] of Object.entries(expected)) {
    const t = v.get(k);
    assert.ok(isRawTensor(t), k);
    assert.equal(t.dtype, dtype, `${k}: dtype`);
    assert.deepEqual(t.shape, shape, `${k}: shape`);
    assert.deepEqual([...t.data], data, `${k}: values`);
    assert.equal(t.requiresGrad, undefined, `${k}: _rebuild_tensor gives a plain tensor`);
  }

  // A v1 tensor reaching one element past its storage (A[8:11]) is refused, naming the file.
  memo.clear();
  next = 0;
  const past = pkl(PROTO(2), rebuild(a, 8, [3], [1])(), STOP);
  const keysA = pkl(PROTO(2), EMPTY_LIST, SHORT_BINSTRING(A), APPEND, STOP);
  assert.throws(() => readPth(pkl(magic, proto, sys, past, keysA, record(10, new Float32Array(10))), 'past.pth'),
    (e: Error) => /^past\.pth: /.test(e.message) && /reaches element 10 of a storage of 10 elements/.test(e.message));
});
