// Native tensors are invisible to the JS garbage collector, so their lifetime is explicit:
// `tidy(fn)` frees every tensor created inside fn that fn does not return, `keep(t)` exempts a
// tensor from its scope, `dispose()` frees one now. The native handle's GC finalizer frees what
// escapes all of these, as a backstop only.
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}

const scopes: Set<Disposable>[] = [];

/** Called by every new tensor: it belongs to the innermost open scope, if any. */
export function track<T extends Disposable>(t: T): T {
  const top = scopes[scopes.length - 1];
  if (top) top.add(t);
  return t;
}

/** Removes a tensor from every open scope so that no tidy() frees it. */
export function keep<T extends Disposable>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

function collect(value: unknown, out: Set<Disposable>, seen: Set<unknown>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isDisposable(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, out, seen);
  else if (value instanceof Map) for (const v of value.values()) collect(v, out, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, out, seen);
}

function isDisposable(v: object): v is Disposable {
  return typeof (v as Disposable).dispose === 'function' && 'isDisposed' in v;
}

/**
 * Runs fn and frees every tensor created during it except those it returns (a tensor, or arrays,
 * maps and plain objects holding tensors) and those passed to keep(). Returned tensors move to
 * the enclosing scope. fn must be synchronous: a promise would escape the scope's bookkeeping.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    throw new Error('tidy(fn): fn returned a promise; tidy scopes are synchronous');
  }
  const survivors = new Set<Disposable>();
  collect(result, survivors, new Set());
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (survivors.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

/** Disposes every tensor in a value (a tensor, or arrays, maps and plain objects holding them). */
export function dispose(value: unknown): void {
  const all = new Set<Disposable>();
  collect(value, all, new Set());
  for (const t of all) t.dispose();
}
