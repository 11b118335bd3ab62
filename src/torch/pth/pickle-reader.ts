import { PthError, hex } from './errors.js';
import { PyBytes, PyDict, PyFloat, PyTuple, type PyKey, type PyValue } from './types.js';

/**
 * A Python callable met in a pickle (through GLOBAL / STACK_GLOBAL), as resolved by the caller's
 * `findClass` hook: REDUCE and NEWOBJ call `call` with the argument tuple's items.
 */
export class PyCallable {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly call: (args: unknown[]) => unknown,
  ) {}
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}

export interface UnpickleHooks {
  /** Resolve GLOBAL `module.name`; throw for anything unsupported. */
  findClass(module: string, name: string): unknown;
  /** BINPERSID: turn a persistent id into an object. Without it, BINPERSID is an error. */
  persistentLoad?(pid: unknown): unknown;
  /** BUILD on an object that is not a dict: return true when handled. */
  build?(obj: unknown, state: unknown): boolean;
}

export interface UnpickleOptions {
  /** Return Python floats as PyFloat instead of number. */
  wrapFloats?: boolean;
  /** Where the pickle sits in the file (e.g. the zip entry), for error messages. */
  context?: string;
  /**
   * How Python 2 `str` (SHORT_BINSTRING, BINSTRING) is decoded: 'utf-8' (default, as torch.load)
   * or 'latin1' (as numpy.load(encoding='latin1'): every byte becomes the char of that code, so
   * binary payloads such as a numpy array's raw data survive).
   */
  py2Strings?: 'utf-8' | 'latin1';
}

export interface UnpickleResult {
  value: unknown;
  /** Offset just past the STOP opcode. */
  end: number;
}

const OPCODE_NAMES: Record<number, string> = {
  0x80: 'PROTO', 0x95: 'FRAME', 0x7d: 'EMPTY_DICT', 0x5d: 'EMPTY_LIST', 0x29: 'EMPTY_TUPLE',
  0x28: 'MARK', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3', 0x74: 'TUPLE', 0x73: 'SETITEM',
  0x75: 'SETITEMS', 0x61: 'APPEND', 0x65: 'APPENDS', 0x4a: 'BININT', 0x4b: 'BININT1',
  0x4d: 'BININT2', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x47: 'BINFLOAT', 0x58: 'BINUNICODE',
  0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8e: 'BINBYTES8', 0x96: 'BYTEARRAY8', 0x55: 'SHORT_BINSTRING', 0x54: 'BINSTRING',
  0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x4e: 'NONE', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT',
  0x94: 'MEMOIZE', 0x68: 'BINGET', 0x6a: 'LONG_BINGET', 0x63: 'GLOBAL', 0x93: 'STACK_GLOBAL',
  0x52: 'REDUCE', 0x62: 'BUILD', 0x81: 'NEWOBJ', 0x51: 'BINPERSID', 0x2e: 'STOP',
  0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x30: 'POP', 0x31: 'POP_MARK',
  0x32: 'DUP', 0x6c: 'LIST', 0x64: 'DICT',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/**
 * Runs one pickle (protocols 2–5, the opcodes that torch.save and Python's pickler emit for
 * plain data) starting at `start` until its STOP opcode. Iterative, bounds-checked: corrupt or
 * truncated input throws a PthError naming `file`, the offset and the opcode.
 */
export function unpickle(
  bytes: Uint8Array,
  start: number,
  file: string,
  hooks: UnpickleHooks,
  options: UnpickleOptions = {},
): UnpickleResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  let pos = start;
  let opPos = start;
  let op = -1;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();

  const fail = (msg: string, withOpcode = true): never => {
    const where = op >= 0 && withOpcode ? ` (opcode ${hex(op)} ${OPCODE_NAMES[op] ?? '?'} at offset ${opPos})` : '';
    const ctx = options.context ? ` in ${options.context}` : '';
    throw new PthError(file, `${msg}${where}${ctx}`);
  };
  const need = (k: number): void => {
    if (k < 0 || pos + k > n) fail(`truncated pickle: needs ${k} more bytes at offset ${pos}, file has ${n}`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(n)) fail(`length ${v} exceeds the file size`);
    return Number(v);
  };
  const take = (k: number): Uint8Array => {
    need(k);
    const out = bytes.subarray(pos, pos + k);
    pos += k;
    return out;
  };
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) fail('truncated pickle: unterminated text line');
    const s = latin1.decode(bytes.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  const text = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch {
      return fail('invalid UTF-8 in string');
    }
  };
  // Byte by byte: WHATWG's 'latin1' label means windows-1252, which remaps 0x80–0x9f.
  const py2String = (b: Uint8Array): string => {
    if (options.py2Strings !== 'latin1') return text(b);
    let s = '';
    for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1]!)) {
      fail('stack underflow');
    }
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail('no MARK on the stack');
    return stack.splice(m!);
  };
  const memoPut = (idx: number): void => {
    memo.set(idx, top());
  };
  const memoGet = (idx: number): void => {
    if (!memo.has(idx)) fail(`memo key ${idx} not defined`);
    stack.push(memo.get(idx));
  };
  const asKey = (k: unknown): PyKey => {
    if (typeof k === 'string' || typeof k === 'number') return k;
    if (typeof k === 'bigint') return Number.isSafeInteger(Number(k)) ? Number(k) : k;
    if (k instanceof PyFloat) return k.value;
    return fail(`unsupported dict key type ${describe(k)}`);
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (!(target instanceof PyDict)) fail(`SETITEM(S) on ${describe(target)}, expected a dict`);
    if (items.length % 2 !== 0) fail('odd number of items for SETITEMS');
    const d = target as PyDict;
    for (let i = 0; i < items.length; i += 2) d.set(asKey(items[i]), items[i + 1] as PyValue);
  };
  const appendItems = (target: unknown, items: unknown[]): void => {
    if (!Array.isArray(target)) fail(`APPEND(S)/ADDITEMS on ${describe(target)}, expected a list`);
    for (const it of items) (target as unknown[]).push(it);
  };
  const callable = (c: unknown, what: string): PyCallable => {
    if (!(c instanceof PyCallable)) return fail(`${what} on ${describe(c)}, which is not callable`);
    return c;
  };
  const decodeLong = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let h = '';
    for (let i = b.length - 1; i >= 0; i--) h += b[i]!.toString(16).padStart(2, '0');
    let v = BigInt('0x' + h);
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return Number.isSafeInteger(Number(v)) && BigInt(Number(v)) === v ? Number(v) : v;
  };
  const resolveGlobal = (module: string, name: string): unknown => {
    try {
      return hooks.findClass(module, name);
    } catch (e) {
      if (e instanceof PthError) throw e;
      return fail((e as Error).message);
    }
  };

  for (;;) {
    if (pos >= n) {
      op = -1;
      fail(`truncated pickle: reached end of data at offset ${pos} before STOP`);
    }
    opPos = pos;
    op = bytes[pos++]!;
    switch (op) {
      case 0x80: { // PROTO
        const p = u8();
        if (p > 5) fail(`unsupported pickle protocol ${p}`);
        break;
      }
      case 0x95: // FRAME: frames are just a prefetch hint
        u64();
        break;
      case 0x2e: { // STOP
        const value = pop();
        return { value, end: pos };
      }
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x8f: // EMPTY_SET (read as a list)
        stack.push([]);
        break;
      case 0x85: { // TUPLE1
        const a = pop();
        stack.push(new PyTuple([a as PyValue]));
        break;
      }
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b] as PyValue[]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b, c] as PyValue[]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark() as PyValue[]));
        break;
      case 0x91: // FROZENSET (read as a list)
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: { // DICT
        const items = popMark();
        const d = new PyDict();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: // APPENDS
      case 0x90: { // ADDITEMS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(take(u8())));
        break;
      case 0x8b: { // LONG4
        const len = i32();
        if (len < 0) fail('negative LONG4 length');
        stack.push(decodeLong(take(len)));
        break;
      }
      case 0x47: { // BINFLOAT (big-endian double)
        need(8);
        const v = view.getFloat64(pos, false);
        pos += 8;
        stack.push(options.wrapFloats ? new PyFloat(v) : v);
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(text(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(take(u64())));
        break;
      case 0x55: // SHORT_BINSTRING (Python 2 str; torch.load decodes it as UTF-8)
        stack.push(py2String(take(u8())));
        break;
      case 0x54: { // BINSTRING
        const len = i32();
        if (len < 0) fail('negative BINSTRING length');
        stack.push(py2String(take(len)));
        break;
      }
      case 0x42: // BINBYTES
        stack.push(new PyBytes(new Uint8Array(take(u32()))));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(new PyBytes(new Uint8Array(take(u8()))));
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(new PyBytes(new Uint8Array(take(u64()))));
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x71: // BINPUT
        memoPut(u8());
        break;
      case 0x72: // LONG_BINPUT
        memoPut(u32());
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size);
        break;
      case 0x68: // BINGET
        memoGet(u8());
        break;
      case 0x6a: // LONG_BINGET
        memoGet(u32());
        break;
      case 0x63: { // GLOBAL
        const module = line();
        const name = line();
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = callable(pop(), 'REDUCE');
        if (!(args instanceof PyTuple)) fail(`REDUCE arguments for ${fn.qualname} are not a tuple`);
        stack.push(invoke(fn, (args as PyTuple).items));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop();
        const cls = callable(pop(), 'NEWOBJ');
        if (!(args instanceof PyTuple)) fail(`NEWOBJ arguments for ${cls.qualname} are not a tuple`);
        stack.push(invoke(cls, (args as PyTuple).items));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        build(obj, state);
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!hooks.persistentLoad) fail('persistent id in a pickle that does not allow them');
        try {
          stack.push(hooks.persistentLoad!(pid));
        } catch (e) {
          if (e instanceof PthError) throw e;
          fail((e as Error).message);
        }
        break;
      }
      default:
        fail(`unsupported pickle opcode ${hex(op)} at offset ${opPos}`, false);
    }
  }

  function invoke(fn: PyCallable, args: unknown[]): unknown {
    try {
      return fn.call(args);
    } catch (e) {
      if (e instanceof PthError) throw e;
      return fail(`${fn.qualname}: ${(e as Error).message}`);
    }
  }

  function build(obj: unknown, state: unknown): void {
    if (hooks.build) {
      let handled: boolean;
      try {
        handled = hooks.build(obj, state);
      } catch (e) {
        if (e instanceof PthError) throw e;
        return fail((e as Error).message);
      }
      if (handled) return;
    }
    if (obj instanceof PyDict) {
      let dictState: unknown = state;
      let slotState: unknown = null;
      if (state instanceof PyTuple && state.length === 2) {
        dictState = state.items[0];
        slotState = state.items[1];
      }
      for (const s of [dictState, slotState]) {
        if (s === null) continue;
        if (!(s instanceof PyDict)) return fail(`BUILD state for a dict is ${describe(s)}`);
        obj.attrs ??= new Map();
        for (const [k, v] of s) obj.attrs.set(String(k), v);
      }
      return;
    }
    fail(`BUILD on unsupported object ${describe(obj)}`);
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof PyCallable) return v.qualname;
  if (v instanceof PyDict) return v.ordered ? 'OrderedDict' : 'dict';
  if (v instanceof PyTuple) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyBytes) return 'bytes';
  if (v instanceof PyFloat) return 'float';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
