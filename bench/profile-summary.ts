// Sums a Chrome trace written by libtorch's profiler (PIX2PIXHD_PROFILE=… on bench/train-step-ours.ts
// or bench/test-ours.ts): per ATen op, its calls, its total time and its self time (minus the ops it
// called), largest self time first; and how much of the span no op covers (time spent outside
// libtorch: JS, the binding, waiting).
//   npx tsx bench/profile-summary.ts trace.json [--top 30]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: a, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
interface Event { name: string; ts: number; dur: number; tid: number | string }
const events = (JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Event[]).filter((e) => e.dur !== undefined);
const rows = new Map<string, { calls: number; total: number; self: number }>();
let covered = 0;
let first = Infinity;
let last = -Infinity;
const byThread = new Map<string, Event[]>();
for (const e of events) {
  const key = String(e.tid);
  if (!byThread.has(key)) byThread.set(key, []);
  byThread.get(key)!.push(e);
  first = Math.min(first, e.ts);
  last = Math.max(last, e.ts + e.dur);
}
for (const list of byThread.values()) {
  // Parents start first, and on a tie the longer one is the parent.
  list.sort((x, y) => x.ts - y.ts || y.dur - x.dur);
  const stack: { e: Event; children: number }[] = [];
  const close = (until: number) => {
    while (stack.length && stack.at(-1)!.e.ts + stack.at(-1)!.e.dur <= until) {
      const { e, children } = stack.pop()!;
      const row = rows.get(e.name) ?? { calls: 0, total: 0, self: 0 };
      row.calls++;
      row.total += e.dur;
      row.self += e.dur - children;
      rows.set(e.name, row);
      if (stack.length) stack.at(-1)!.children += e.dur;
      else covered += e.dur;
    }
  };
  for (const e of list) {
    close(e.ts);
    stack.push({ e, children: 0 });
  }
  close(Infinity);
}
const span = last - first;
const ms = (us: number) => (us / 1000).toFixed(1).padStart(9);
console.log(`span ${ms(span)} ms, covered by ops ${ms(covered)} ms, not in any op ${ms(span - covered)} ms`);
console.log(`${'op'.padEnd(48)} ${'calls'.padStart(6)} ${'self ms'.padStart(9)} ${'total ms'.padStart(9)}`);
for (const [name, r] of [...rows].sort((x, y) => y[1].self - x[1].self).slice(0, Number(a.top))) {
  console.log(`${name.slice(0, 48).padEnd(48)} ${String(r.calls).padStart(6)} ${ms(r.self)} ${ms(r.total)}`);
}
