// CUDA check for machines whose libtorch has CUDA: the same ops on cuda:0 and on the CPU agree
// (forward and backward), tensors move both ways, and errors cross as JS errors. Prints a
// JSON line per check and exits non-zero on the first disagreement.
import * as T from '../src/torch/index.js';

const count = T.cudaDeviceCount();
console.log(JSON.stringify({ check: 'cuda devices', count }));
if (count === 0) process.exit(1);
T.manualSeed(0);
let failed = false;
function compare(name: string, a: T.Tensor, b: T.Tensor, tol = 1e-4): void {
  const x = a.toFloat32Array();
  const y = b.toFloat32Array();
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) { num += (x[i]! - y[i]!) ** 2; den += y[i]! ** 2; }
  const rel = Math.sqrt(num / Math.max(den, 1e-30));
  const ok = rel < tol && x.length === y.length;
  failed ||= !ok;
  console.log(JSON.stringify({ check: name, relL2: rel, ok }));
}
T.tidy(() => {
  const x = T.randn([2, 8, 32, 48]);
  const w = T.randn([16, 8, 3, 3]).mul(0.1);
  const wt = T.randn([16, 8, 3, 3]).mul(0.1);
  const run = (dev: string) => {
    const xd = x.to(dev).detach().requiresGrad_(true);
    const wd = w.to(dev).detach().requiresGrad_(true);
    let y = T.F.conv2d(T.F.pad(xd, [1, 1, 1, 1], 'reflect'), wd, null, { stride: 1 });
    y = T.F.instanceNorm(y).relu();
    y = T.F.convTranspose2d(y, wt.to(dev), null, { stride: 2, padding: 1, outputPadding: 1 });
    y = T.F.avgPool2d(y, 3, { stride: 2, padding: 1, countIncludePad: false });
    const loss = y.tanh().square().mean();
    loss.backward();
    return { y: y.to('cpu'), gx: xd.grad!.to('cpu'), gw: wd.grad!.to('cpu') };
  };
  const cpu = run('cpu');
  const gpu = run('cuda:0');
  compare('forward', gpu.y, cpu.y);
  compare('grad input', gpu.gx, cpu.gx);
  compare('grad weight', gpu.gw, cpu.gw);
  try {
    T.ones([2, 2], { device: 'cuda:0' }).add(T.ones([2, 2]));
    console.log(JSON.stringify({ check: 'device mismatch error', ok: false }));
    failed = true;
  } catch (e) {
    console.log(JSON.stringify({ check: 'device mismatch error', ok: true, message: (e as Error).message.split('\n')[0] }));
  }
});
process.exit(failed ? 1 : 0);
