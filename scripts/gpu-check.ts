// The CUDA checks of scripts/gpu-check.sh, one verdict line each (PASS, FAIL or SKIP, with the
// figure that decided it), then the performance figures. Exits non-zero when any check failed.
//   node --import tsx scripts/gpu-check.ts [--only name,name]
// GPU_CHECK_DEVICE=cpu runs the checks on the CPU instead (a dry run of the script itself, where
// no GPU is at hand; the Adam and memory checks then run small and say what they could not check):
//   GPU_CHECK_DEVICE=cpu node --import tsx scripts/gpu-check.ts --only 'adam in backward,adam fused cuda,memory estimate'

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSyntheticDataset } from '../src/data/index.js';
import { GradientBuckets } from '../src/dist/grad-buckets.js';
import { freePort } from '../src/dist/launcher.js';
import { Encoder, GlobalGenerator, LocalEnhancer, MultiscaleDiscriminator } from '../src/models/index.js';
import * as T from '../src/torch/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FIX = join(ROOT, 'test', 'fixtures', 'pix2pixhd-reference');
const DEV = process.env.GPU_CHECK_DEVICE ?? 'cuda:0';
const onCuda = DEV.startsWith('cuda');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1]!.split(',') : null;
let failed = 0;

function verdict(name: string, status: 'PASS' | 'FAIL' | 'SKIP', detail: string): void {
  if (status === 'FAIL') failed++;
  console.log(`${status.padEnd(4)} ${name.padEnd(22)} ${detail}`);
}

async function check(name: string, fn: () => Promise<[boolean, string]> | [boolean, string]): Promise<void> {
  if (only && !only.includes(name)) return;
  const t0 = performance.now();
  try {
    const [ok, detail] = await fn();
    verdict(name, ok ? 'PASS' : 'FAIL', `${detail} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    verdict(name, 'FAIL', (e as Error).message.split('\n').slice(0, 3).join(' | '));
  }
}

const relL2 = (a: T.Tensor, b: T.Tensor): number => T.noGrad(() => T.tidy(() => {
  const x = a.to('cpu').float();
  const y = b.to('cpu').float();
  return x.sub(y).square().sum().sqrt().item() / Math.max(y.square().sum().sqrt().item(), 1e-30);
}));

function cli(args: string[], env: Record<string, string> = {}, timeoutS = 120): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], { encoding: 'utf8', timeout: timeoutS * 1000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const { native } = await import('../src/torch/native.js');
const gpus = T.cudaDeviceCount();
console.log(`libtorch ${native.buildInfo().torchVersion}, CUDA devices: ${gpus}, c10d: ${JSON.stringify(T.distributedAvailable())}, ATen's _fused_adam_ in this build: ${native.adamUpdateCounts().fusedAdamBuilt}, checks on ${DEV}`);
if (gpus === 0 && onCuda) {
  verdict('cuda', 'FAIL', 'this build of the binding sees no CUDA device (is the libtorch it was built against a CUDA build?)');
  process.exit(1);
}

// 1. The networks on CUDA against the official code's CPU outputs (TF32 convolutions allowed, as PyTorch's default).
await check('parity G/D/E', () => T.noGrad(() => T.tidy(() => {
  const inputs = T.loadTensorDict(join(FIX, 'inputs.pth'));
  const on = (k: string) => inputs.get(k)!.to(DEV);
  const load = <M extends T.nn.Module>(m: M, file: string): M => { m.loadStateDict(T.loadTensorDict(join(FIX, file)), { strict: true }); return m.to(DEV); };
  const ref = (file: string, key: string) => T.loadTensorDict(join(FIX, file)).get(key)!;
  const errs: Record<string, number> = {};
  errs.global_G = relL2(load(new GlobalGenerator({ input_nc: 8, output_nc: 3, ngf: 8, n_downsample_global: 3, n_blocks_global: 2 }), 'global_G.pth').forward(on('input_concat')), ref('global_G_out.pth', 'fake_image'));
  errs.local_G = relL2(load(new LocalEnhancer({ input_nc: 8, output_nc: 3, ngf: 8, n_downsample_global: 2, n_blocks_global: 2, n_local_enhancers: 1, n_blocks_local: 1 }), 'local_G.pth').forward(on('input_concat')), ref('local_G_out.pth', 'fake_image'));
  const D = load(new MultiscaleDiscriminator({ input_nc: 11, ndf: 8, n_layers_D: 2, num_D: 2, getIntermFeat: true }), 'D.pth');
  const outs = D.forward(T.cat([on('input_concat'), on('real_image')], 1));
  errs.D = Math.max(...outs.flatMap((scale, i) => scale.map((t, j) => relL2(t, ref('D_out.pth', `scale${i}_layer${j}`)))));
  errs.E = relL2(load(new Encoder({ input_nc: 3, output_nc: 3, nef: 8, n_downsample_E: 2 }), 'E.pth').forward(on('real_image'), on('inst')), ref('E_out.pth', 'feat_map'));
  const worst = Math.max(...Object.values(errs));
  return [worst < 2e-3, `relative L2 ${Object.entries(errs).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')} (tolerance 2e-3: TF32)`];
})));

// Adam's updates on CUDA: `_fused_adam_` where this libtorch's dispatcher has a CUDA kernel for it,
// else the foreach ops. Neither is bitwise PyTorch's single-tensor op sequence there (the fused
// kernel computes each element in float with double scalars; CUDA's foreach division is a true
// division where the op sequence multiplies by the reciprocal), so each is held to the op
// sequence (adamPath 'ops') within a tolerance, and the counters say which path ran.
const fusedExpected = (): boolean => onCuda && native.adamUpdateCounts().fusedAdamBuilt && !native.adamUpdateCounts().fusedAdamMissing.includes('cuda');
const pathNote = (): string => {
  const c = native.adamUpdateCounts();
  if (!c.fusedAdamBuilt) return 'this build has no _fused_adam_';
  return `this build has _fused_adam_${c.fusedAdamMissing.length ? `, its dispatcher no kernel for ${c.fusedAdamMissing.join(', ')}` : ''}`;
};
const countsText = (c: T.AdamPathCounts): string => Object.entries(c).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';

// 1b. Adam's update inside the backward pass on CUDA (native hook on the engine's device thread,
// `_fused_adam_` on one parameter at a time) against zero_grad + backward + step() on PyTorch's op
// sequence on the same net: equal but for the fused kernel's rounding and the order of float
// reductions in the backward.
await check('adam in backward', () => T.tidy(() => {
  const make = () => [0, 1].map((k) => T.tensor(Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i * 0.37 + k)), [64, 64]).to(DEV).requiresGrad_(true));
  const x = T.tensor(Array.from({ length: 64 * 8 }, (_, i) => Math.cos(i * 0.11)), [64, 8]).to(DEV);
  const loss = (ps: T.Tensor[]) => ps[1]!.matmul(ps[0]!.matmul(x).tanh()).square().mean();
  const plain = make();
  const inBackward = make();
  const optPlain = new T.Adam(plain, { lr: 1e-3, betas: [0.5, 0.999] });
  const optIn = new T.Adam(inBackward, { lr: 1e-3, betas: [0.5, 0.999] });
  const counts: T.AdamPathCounts = { cpuKernel: 0, fusedAdam: 0, foreach: 0, ops: 0 };
  for (let k = 0; k < 3; k++) {
    T.tidy(() => { optPlain.zeroGrad(); loss(plain).backward(); T.withAdamPath('ops', () => optPlain.step()); });
    const c = T.adamUpdatesDuring(() => T.tidy(() => optIn.backwardAndStep(loss(inBackward))));
    for (const key of Object.keys(counts) as (keyof T.AdamPathCounts)[]) counts[key] += c[key];
  }
  const err = Math.max(...plain.map((p, i) => relL2(inBackward[i]!, p)));
  const moved = relL2(plain[0]!, make()[0]!);
  const devices = [...optIn.state.values()].map((s) => s.expAvg.device);
  const pathOk = !fusedExpected() || counts.fusedAdam === 6;
  return [err < 1e-5 && moved > 1e-4 && pathOk && devices.every((d) => d === DEV) && inBackward.every((p) => p.grad === null),
    `3 steps, updates by path: ${countsText(counts)} (${pathNote()}${fusedExpected() ? '; all 6 expected fused' : ''}); relative L2 to step() on the op sequence ${err.toExponential(1)} (tolerance 1e-5), moved ${moved.toExponential(1)}, moments on ${[...new Set(devices)].join(',')}`];
}));

// 1c. step() over many parameters: one `_fused_adam_` call (path 'auto'), and the foreach ops
// (path 'foreach'), against the op sequence; float32 and half parameters (float16 on CUDA; on a
// CPU dry run bfloat16, which the CPU's kernels cover), sizes off the kernels' vector widths,
// weight decay on.
await check('adam fused cuda', () => T.tidy(() => {
  const shapes = [[4096], [1001], [64, 64], [3, 3, 3, 3]];
  const lines: string[] = [];
  let ok = true;
  for (const dtype of ['float32', onCuda ? 'float16' : 'bfloat16'] as const) {
    const wave = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
    const make = () => shapes.map((s, k) => T.tensor(wave(s.reduce((a, b) => a * b), (i) => Math.sin(i * 0.37 + k)), s).to(DEV, { dtype }).requiresGrad_(true));
    const run = (path: 'ops' | 'auto' | 'foreach') => {
      const ps = make();
      const opt = new T.Adam(ps, { lr: 1e-3, betas: [0.5, 0.999], weightDecay: 0.01 });
      const counts = T.adamUpdatesDuring(() => T.withAdamPath(path, () => {
        for (let step = 1; step <= 3; step++) {
          ps.forEach((p, k) => { p.grad = T.tensor(wave(p.numel, (i) => Math.cos(i * 0.11 + step + k)), p.shape).to(DEV, { dtype }); });
          opt.step();
        }
      }));
      return { ps, opt, counts };
    };
    const ops = run('ops');
    // float32: a few roundings apart; half: each op of the sequence rounds to half (2^-11).
    const [tolP, tolM] = dtype === 'float32' ? [1e-6, 1e-6] : [1e-3, 1e-2];
    for (const path of ['auto', 'foreach'] as const) {
      const r = run(path);
      const errP = Math.max(...r.ps.map((p, k) => relL2(p, ops.ps[k]!)));
      const errM = Math.max(...r.ps.flatMap((_, k) => (['expAvg', 'expAvgSq'] as const).map((m) => relL2(r.opt.state.get(k)![m], ops.opt.state.get(k)![m]))));
      const pathOk = path === 'foreach' ? !onCuda || r.counts.foreach === 12 : !fusedExpected() || r.counts.fusedAdam === 12;
      ok &&= errP < tolP && errM < tolM && pathOk;
      lines.push(`${dtype} ${path} (${countsText(r.counts)}): parameters ${errP.toExponential(1)}, moments ${errM.toExponential(1)}`);
      r.opt.dispose();
    }
    const moved = relL2(ops.ps[0]!, make()[0]!);
    ok &&= moved > 1e-4;
    ops.opt.dispose();
  }
  return [ok, `3 steps of 4 parameters against the op sequence, relative L2 (tolerance float32 1e-6; half 1e-3 parameters, 1e-2 moments): ${lines.join('; ')} (${pathNote()})`];
}));

// 1d. The memory estimate printed before training (src/train/memory-estimate.ts) against the CUDA
// caching allocator's peak (torch.cuda.max_memory_allocated's figure) over two training iterations
// of the official 1024×512 recipe (global G ngf 64, two D scales, VGG loss with random weights), in
// float32 and under --fp16, each in a process of its own (test/train/memory-peak-child.ts). Also
// printed, to check the estimate's assumed constants: the allocator's peak reserve against the
// estimate's allocated + slack, and the CUDA context (this process's memory in nvidia-smi minus
// the allocator's reserve). On a CPU dry run: small, and the resident peak instead.
await check('memory estimate', () => {
  const [ngf, w, h] = onCuda ? [64, 1024, 512] : [8, 128, 64];
  const mb = (n: number) => (n / 2 ** 20).toFixed(0);
  const lines: string[] = [];
  let ok = true;
  for (const fp16 of [false, true]) {
    const args = ['--netG', 'global', '--ngf', String(ngf), '--w', String(w), '--h', String(h), '--device', DEV, ...(fp16 ? ['--fp16'] : [])];
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'train', 'memory-peak-child.ts'), ...args], { encoding: 'utf8', timeout: 180_000 });
    const name = fp16 ? 'fp16' : 'fp32';
    if (r.status !== 0) return [false, `${name}: exit ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' | ')}`];
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number | null>;
    const est = j.estimateAllocated!;
    if (j.peakAllocated === undefined || j.peakAllocated === null) {
      ok &&= !onCuda;
      lines.push(`${name}: estimated ${mb(est)} MB; ${onCuda ? 'no allocator statistics in this build' : `resident peak ${mb(j.peak! - j.baseline!)} MB (ratio ${((j.peak! - j.baseline!) / est).toFixed(2)})`}`);
      continue;
    }
    const measured = j.peakAllocated - (j.allocatedBefore ?? 0);
    const ratio = measured / est;
    ok &&= Math.abs(ratio - 1) <= 0.25;
    const context = j.deviceUsed === null || j.reserved === null ? 'not measured (no nvidia-smi)' : `${mb(j.deviceUsed! - j.reserved!)} MB`;
    lines.push(`${name}: peak allocated ${mb(measured)} MB, estimated ${mb(est)} MB (ratio ${ratio.toFixed(2)}); peak reserved ${mb(j.peakReserved!)} MB, ` +
      `estimated with slack ${mb(est + j.estimateSlack!)} MB; CUDA context ${context}, assumed ${mb(j.estimateContext!)} MB`);
  }
  return [ok, `global G ngf ${ngf}, ${w}×${h}, 2 iterations, estimate within 25% of the measured peak: ${lines.join('; ')}`];
});

const root = mkdtempSync(join(tmpdir(), 'pix2pixhd-gpu-check-'));
const data = join(root, 'data');
await makeSyntheticDataset({ out: data, n: 8, nTest: 2, width: 128, height: 64, seed: 1 });
const tiny = (name: string) => ['--name', name, '--dataroot', data, '--checkpoints_dir', join(root, 'ck'), '--label_nc', '35', '--resize_or_crop', 'none',
  '--netG', 'global', '--ngf', '16', '--n_downsample_global', '3', '--n_blocks_global', '2', '--ndf', '16', '--no_vgg_loss',
  '--display_freq', '0', '--no_html', '--nThreads', '1', '--gpu_ids', '0', '--print_freq', '1', '--save_epoch_freq', '100'];
const losses = (name: string) => readFileSync(join(root, 'ck', name, 'loss_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { losses: Record<string, number> });

// 2. --fp16 training: finite losses, G's feature-matching loss lower at the end than at the start.
await check('fp16 training', () => {
  const r = cli(['train', ...tiny('fp16'), '--fp16', '--niter', '4', '--niter_decay', '0']);
  if (r.status !== 0) return [false, `exit ${r.status}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`];
  const ls = losses('fp16');
  const finite = ls.every((l) => Object.values(l.losses).every(Number.isFinite));
  const mean = (xs: typeof ls) => xs.reduce((s, l) => s + l.losses.G_GAN_Feat!, 0) / xs.length;
  const [first, last] = [mean(ls.slice(0, 5)), mean(ls.slice(-5))];
  return [finite && last < first, `${ls.length} iterations, losses finite ${finite}, G_GAN_Feat ${first.toFixed(3)} → ${last.toFixed(3)}`];
});

// 3. Resume on CUDA: killed after iteration 6, resumed to the end; Adam's moments on the GPU.
await check('resume on CUDA', () => {
  const killed = cli(['train', ...tiny('resume'), '--niter', '2', '--niter_decay', '0', '--save_latest_freq', '4'], { PIX2PIXHD_KILL_AFTER_STEP: '6' });
  if (killed.status !== null) return [false, `the run was to be killed, it exited ${killed.status}: ${killed.stderr.trim().split('\n').at(-1)}`];
  const resumed = cli(['train', ...tiny('resume'), '--niter', '2', '--niter_decay', '0', '--save_latest_freq', '4', '--continue_train']);
  if (resumed.status !== 0) return [false, `resume exit ${resumed.status}: ${resumed.stderr.trim().split('\n').slice(-2).join(' | ')}`];
  const state = JSON.parse(readFileSync(join(root, 'ck', 'resume', 'latest_state.json'), 'utf8')) as { totalSteps: number };
  const p = T.zeros([3], { device: DEV }).requiresGrad_(true);
  const opt = new T.Adam([p]);
  opt.loadStateDict({ state: new Map([[0, { step: 1, expAvg: T.zeros([3]), expAvgSq: T.zeros([3]) }]]), paramGroups: opt.stateDict().paramGroups });
  const device = opt.state.get(0)!.expAvg.device;
  opt.dispose();
  return [state.totalSteps === 16 && device === DEV, `resumed to ${state.totalSteps} of 16 items; moments loaded on ${device}`];
});

// 4. --data_type 16 synthesis from the fp16 run.
await check('data_type 16 test', () => {
  const r = cli(['test', '--name', 'fp16', '--checkpoints_dir', join(root, 'ck'), '--dataroot', data, '--results_dir', join(root, 'results'), '--gpu_ids', '0', '--data_type', '16']);
  const png = join(root, 'results', 'fp16', 'test_latest', 'images', 'scene_00000_synthesized_image.png');
  return [r.status === 0 && existsSync(png), r.status === 0 ? 'images written' : `exit ${r.status}: ${r.stderr.trim().split('\n').at(-1)}`];
});

// 5. One-rank NCCL all-reduce (a world of one still runs NCCL's kernels).
await check('nccl 1 rank', async () => {
  if (!T.distributedAvailable().nccl) return [false, 'this build has no NCCL process group (CMake found no ProcessGroupNCCL/nccl.h for this libtorch)'];
  const g = T.ProcessGroup.init({ backend: 'nccl', rank: 0, worldSize: 1, timeoutSeconds: 60, store: { kind: 'tcp', host: '127.0.0.1', port: await freePort() } });
  const x = T.tensor([1, 2, 3], undefined, { device: DEV });
  g.allreduce([x], 'sum').wait();
  g.allreduce([x], 'avg').wait();
  const v = x.toNumbers();
  // The bucketed all-reduce from inside the backward pass, on the engine's CUDA device thread:
  // with one rank the averaged gradients are the gradients themselves.
  const ps = [0, 1, 2].map((k) => T.tensor(Array.from({ length: 300 }, (_, i) => Math.sin(i + k)), [300], { device: DEV }).requiresGrad_(true));
  const lossOf = () => ps.reduce((acc, p, k) => acc.add(p.square().mul(k + 1).sum()), T.zeros([], { device: DEV }));
  lossOf().backward();
  const expected = ps.map((p) => p.grad!.clone());
  const buckets = new GradientBuckets(g, ps, 2 * 300 * 4); // two parameters per bucket: two all-reduces
  buckets.backward(lossOf());
  const gradErr = Math.max(...ps.map((p, k) => relL2(p.grad!, expected[k]!)));
  buckets.dispose();
  g.shutdown();
  return [v.join(',') === '1,2,3' && gradErr === 0, `sum then avg of [1,2,3] on ${DEV}: [${v}]; bucketed all-reduce in the backward: gradient error ${gradErr}`];
});

// 6. Two ranks, one per GPU, through the launcher.
if (gpus >= 2) {
  await check('2 ranks on 2 GPUs', () => {
    const r = cli(['train', ...tiny('two'), '--gpu_ids', '0,1', '--batchSize', '2', '--niter', '1', '--niter_decay', '0'], {}, 180);
    return [r.status === 0 && /data-parallel: 2 ranks/.test(r.stdout), r.status === 0 ? r.stdout.split('\n').find((l) => l.startsWith('data-parallel')) ?? '' : `exit ${r.status}: ${r.stderr.trim().split('\n').at(-1)}`];
  });
} else if (!only || only.includes('2 ranks on 2 GPUs')) {
  verdict('2 ranks on 2 GPUs', 'SKIP', `${gpus} GPU on this machine`);
}
rmSync(root, { recursive: true, force: true });

// Performance: label2city_1024p's G (182.9M parameters) at 2048×1024, random weights.
if (!only || only.includes('perf')) {
  T.manualSeed(0);
  const G = new LocalEnhancer({ input_nc: 36, output_nc: 3, ngf: 32, n_downsample_global: 4, n_blocks_global: 9, n_local_enhancers: 1, n_blocks_local: 3 }).to(DEV);
  const x = T.randn([1, 36, 1024, 2048], { device: DEV });
  for (const half of [false, true]) {
    const run = () => T.noGrad(() => T.tidy(() => {
      const y = half ? T.autocast('cuda', () => G.forward(x)) : G.forward(x);
      return y.sum().item(); // waits for the GPU
    }));
    for (let i = 0; i < 2; i++) run();
    const times: number[] = [];
    for (let i = 0; i < 5; i++) { const t0 = performance.now(); run(); times.push(performance.now() - t0); }
    console.log(`perf  label2city G 2048×1024 synthesis, ${half ? 'float16 autocast' : 'float32'}: median ${times.sort((a, b) => a - b)[2]!.toFixed(1)} ms of 5`);
  }
  G.dispose();
  x.dispose();
  if (process.env.REF_PIX2PIXHD) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'train.ts'), '--device', DEV, '--rounds', '2', '--iters', '5'], { encoding: 'utf8', timeout: 240_000 });
    console.log(r.stdout.trim().split('\n').map((l) => `perf  ${l}`).join('\n'));
  } else {
    console.log('perf  training iteration against the official code: skipped (set REF_PIX2PIXHD to a clone of NVIDIA/pix2pixHD)');
  }
}
process.exit(failed ? 1 : 0);
