// One rank of the collectives test (test/dist/collectives.test.ts): joins a Gloo group from
// torchrun's variables, runs all-reduce (sum, avg), broadcast and barrier, prints what it got
// as one JSON line. With EXIT_EARLY=r rank r leaves after joining, so its peer's collective fails.
import { ProcessGroup, tensor, tidy } from '../../src/torch/index.js';

const rank = Number(process.env.RANK);
const size = Number(process.env.WORLD_SIZE);
const group = ProcessGroup.init({
  backend: 'gloo', rank, worldSize: size, timeoutSeconds: Number(process.env.TIMEOUT_S ?? 30),
  store: { kind: 'tcp', host: '127.0.0.1', port: Number(process.env.MASTER_PORT) },
});
if (process.env.EXIT_EARLY === String(rank)) process.exit(0);
// HANG=r: rank r stops responding (sleeps past the timeout) without leaving the group.
if (process.env.HANG === String(rank)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3 * 1000 * Number(process.env.TIMEOUT_S ?? 30));
const out = tidy(() => {
  const sum = tensor([rank + 1, 10 * (rank + 1)], undefined, { dtype: 'float32' });
  const avg = tensor([rank + 1, 10 * (rank + 1)], undefined, { dtype: 'float32' });
  const big = tensor(Array.from({ length: 100_000 }, (_, i) => i * (rank + 1)), undefined, { dtype: 'float32' });
  const bcast = tensor([rank * 7 + 1, rank * 7 + 2], undefined, { dtype: 'float32' });
  const works = [group.allreduce([sum], 'sum'), group.allreduce([avg], 'avg'), group.allreduce([big], 'sum'), group.broadcast([bcast], 0)];
  for (const w of works) w.wait();
  group.barrier().wait();
  return { rank, sum: sum.toNumbers(), avg: avg.toNumbers(), bigLast: big.toNumbers().at(-1), bcast: bcast.toNumbers() };
});
process.stdout.write(JSON.stringify(out) + '\n');
group.shutdown();
