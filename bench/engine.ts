// Engine benchmark: forward+backward of a small conv stack and a 2048² matmul, in this engine and
// (when python3 with torch is present) in PyTorch, same thread count, one run. Prints both times
// and the ratio (ours / PyTorch's; below 1 is faster).
//   npm run bench:engine [-- --iters 10]
import * as T from '../src/torch/index.js';
import { median, pythonWithTorch, runPythonJson } from './pytorch.js';

const itersArg = process.argv.indexOf('--iters');
const iters = itersArg > 0 ? Number(process.argv[itersArg + 1]) : 10;
const threads = T.getNumThreads();

function time(fn: () => void): number {
  for (let i = 0; i < 2; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    ts.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(ts);
}

T.manualSeed(0);
const conv1 = new T.nn.Conv2d(64, 64, 3, { padding: 1 });
const conv2 = new T.nn.Conv2d(64, 64, 3, { padding: 1 });
const x = T.keep(T.randn([1, 64, 128, 256]));
const convStep = () =>
  T.tidy(() => {
    conv1.zeroGrad();
    conv2.zeroGrad();
    conv2.forward(conv1.forward(x).relu()).square().mean().backward();
  });
const a = T.keep(T.randn([2048, 2048]));
const b = T.keep(T.randn([2048, 2048]));
const matmulStep = () => T.tidy(() => void a.matmul(b));

const pyScript = `
import json, statistics, sys, time, torch
iters, threads = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads); torch.manual_seed(0)
c1 = torch.nn.Conv2d(64, 64, 3, padding=1); c2 = torch.nn.Conv2d(64, 64, 3, padding=1)
x = torch.randn(1, 64, 128, 256)
def conv():
    c1.zero_grad(set_to_none=True); c2.zero_grad(set_to_none=True)
    c2(torch.relu(c1(x))).square().mean().backward()
a = torch.randn(2048, 2048); b = torch.randn(2048, 2048)
def mm(): a @ b
def timed(f):
    for _ in range(2): f()
    ts = []
    for _ in range(iters):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return statistics.median(ts)
print(json.dumps({"conv": timed(conv), "matmul": timed(mm), "threads": torch.get_num_threads(), "torch": torch.__version__}))
`;

const convFlops = 2 * (2 * 64 * 64 * 9 * 128 * 256) * 3; // two convs, forward + two backward products
const mmFlops = 2 * 2048 ** 3;
// Alternate rounds of ours and PyTorch's so that background load on the machine hits both alike.
const python = pythonWithTorch();
const rounds = 3;
const ours = { conv: [] as number[], matmul: [] as number[] };
const theirs = { conv: [] as number[], matmul: [] as number[] };
for (let r = 0; r < rounds; r++) {
  ours.conv.push(time(convStep));
  ours.matmul.push(time(matmulStep));
  if (python) {
    const ref = runPythonJson(python, pyScript, [String(iters), String(threads)]);
    theirs.conv.push(ref.conv as number);
    theirs.matmul.push(ref.matmul as number);
  }
}
console.log(`engine benchmark, ${threads} threads, median of ${rounds} rounds × ${iters} iterations`);
const ref = python ? { conv: median(theirs.conv), matmul: median(theirs.matmul) } : undefined;
const convSec = median(ours.conv);
const matmulSec = median(ours.matmul);
const row = (name: string, ours: number, flops: number, theirs?: number) =>
  console.log(
    `${name.padEnd(28)} ours ${(ours * 1e3).toFixed(1).padStart(8)} ms (${(flops / ours / 1e9).toFixed(1)} GFLOP/s)` +
      (theirs === undefined ? '' : `   pytorch ${(theirs * 1e3).toFixed(1).padStart(8)} ms   ratio ${(ours / theirs).toFixed(3)}`),
  );
row('conv stack fwd+bwd', convSec, convFlops, ref?.conv as number | undefined);
row('matmul 2048x2048', matmulSec, mmFlops, ref?.matmul as number | undefined);
if (!python) console.log('(no python3 with torch found: install python3-torch to compare against PyTorch)');
else console.log(`pytorch from ${python}, ${threads} threads`);
