// pix2pixHD training as the official train.py runs it: epochs over the data set, the lr held for
// `niter` epochs then decayed linearly over `niter_decay`, only the outermost local enhancer
// trained for the first `niter_fix_global` epochs, checkpoints every `save_latest_freq`
// iterations and `save_epoch_freq` epochs, losses logged and samples shown on an HTML page.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildDiscriminator, buildEncoder, buildGenerator, outermostEnhancerPrefix, usesFeatures, type Generator, type NetworkOptions } from '../models/from-options.js';
import { Vgg19Features } from '../models/vgg19.js';
import { VGGLoss } from '../losses/vgg-loss.js';
import { Adam, GradScaler, loadTensorDict, manualSeed, noGrad, type Tensor, tidy } from '../torch/index.js';
import { deriveSeed, randomSource } from '../util/rng.js';
import { batchToTensors, type BatchTensors, type DataBatch } from './batch.js';
import { loadNetwork, loadOptimizer, loadTrainingState, netPath, saveCheckpoint, type TrainingState } from './checkpoint.js';
import { ImagePool } from './image-pool.js';
import { learningRateAt, totalEpochs } from './schedule.js';
import { TrainStep, type StepLosses } from './step.js';

export interface TrainOptions extends NetworkOptions {
  name: string;
  checkpoints_dir: string;
  batchSize: number;
  niter: number;
  niter_decay: number;
  niter_fix_global: number;
  lr: number;
  beta1: number;
  lambda_feat: number;
  no_ganFeat_loss: boolean;
  no_vgg_loss: boolean;
  no_lsgan: boolean;
  pool_size: number;
  ndf: number;
  n_layers_D: number;
  num_D: number;
  save_latest_freq: number;
  save_epoch_freq: number;
  display_freq: number;
  print_freq: number;
  continue_train: boolean;
  load_pretrain: string;
  which_epoch: string;
  seed: number;
  vgg_weights: string;
  debug?: boolean;
  /** 'cpu' (default) or 'cuda:N'. */
  device?: string;
  /**
   * Mixed precision on CUDA: float16 autocast and dynamic loss scaling (the scale starts again at
   * 2^16 on resume, as the official code's apex scaler does).
   */
  fp16?: boolean;
}

/** --fp16 needs CUDA: refused on the CPU, before anything is written. */
export function checkPrecision(opts: Pick<TrainOptions, 'fp16' | 'device'>): void {
  if (opts.fp16 && !(opts.device ?? 'cpu').startsWith('cuda')) {
    throw new Error('--fp16: mixed precision runs on a CUDA device (--gpu_ids 0), and this run is on the CPU; there, lower the memory with a smaller --ngf/--ndf, --resize_or_crop crop with a smaller --fineSize, or --no_vgg_loss');
  }
}

/** Where the batches come from: a fixed number of items per epoch, resumable mid-epoch. */
export interface BatchSource {
  /** Items (not batches) per epoch. */
  readonly size: number;
  /** The batches of `epoch`, skipping its first `skipItems` items (resuming). */
  epoch(epoch: number, skipItems: number): AsyncIterable<DataBatch>;
}

/** What the trainer tells its observers (progress bar, logs, pages). */
export interface TrainEvents {
  onStart?(info: { runDir: string; epochs: number; datasetSize: number; startEpoch: number; parameters: Record<string, number>; resumed: boolean }): void;
  onIteration?(info: { epoch: number; epochIter: number; totalSteps: number; losses: StepLosses; lr: number; seconds: number }): void;
  /** Every display_freq iterations: the batch and what G made of it (tensors freed after the call). */
  onDisplay?(info: { epoch: number; totalSteps: number; batch: DataBatch; fake: Tensor }): void;
  onSave?(info: { which: string; epoch: number; totalSteps: number }): void;
  onEpochEnd?(info: { epoch: number; seconds: number; lr: number }): void;
  onMessage?(text: string): void;
}

export interface TrainResult {
  runDir: string;
  totalSteps: number;
  lastLosses: StepLosses | null;
}

function parametersWithPrefix(G: Generator, prefix: string): Tensor[] {
  return G.namedParameters().filter(([k]) => k.startsWith(prefix)).map(([, p]) => p);
}

/** Trains a run end to end; resolves when the last epoch is done. */
export async function train(opts: TrainOptions, data: BatchSource, events: TrainEvents = {}): Promise<TrainResult> {
  const runDir = join(opts.checkpoints_dir, opts.name);
  mkdirSync(runDir, { recursive: true });
  manualSeed(opts.seed);
  const G = buildGenerator(opts, deriveSeed(opts.seed, 'G'));
  const D = buildDiscriminator(opts, deriveSeed(opts.seed, 'D'));
  const E = buildEncoder(opts, deriveSeed(opts.seed, 'E'));
  const vgg = opts.no_vgg_loss ? null : Vgg19Features.load(opts.vgg_weights || undefined);
  const device = opts.device ?? 'cpu';
  checkPrecision(opts);
  if (device !== 'cpu') for (const m of [G, D, E, vgg]) m?.to(device);
  const vggLoss = vgg ? new VGGLoss(vgg, { lambda_feat: opts.lambda_feat }) : null;
  const message = (t: string) => events.onMessage?.(t);

  // Resume, or start from a pretrained (e.g. G1-only) run.
  let state: TrainingState = { epoch: 1, epochIter: 0, totalSteps: 0, globalUnfrozen: false };
  let resumed = false;
  if (opts.continue_train) {
    const saved = loadTrainingState(runDir, 'latest');
    if (saved && existsSync(netPath(runDir, 'latest', 'G'))) {
      state = saved;
      resumed = true;
    } else {
      message(`continue_train: no checkpoint in ${runDir} yet; starting from epoch 1`);
    }
  } else if (opts.load_pretrain) {
    loadPretrained(G, D, opts, message);
  }

  // niter_fix_global: only the outermost enhancer trains; G1's parameters get no gradients at all.
  const fixGlobal = opts.netG === 'local' && opts.niter_fix_global > 0 && !state.globalUnfrozen && state.epoch <= opts.niter_fix_global;
  const makeOptimizerG = (onlyEnhancer: boolean, lr: number) => {
    const params = onlyEnhancer ? parametersWithPrefix(G, outermostEnhancerPrefix(opts)) : G.parameters();
    return new Adam([...params, ...(E ? E.parameters() : [])], { lr, betas: [opts.beta1, 0.999] });
  };
  const setGlobalFrozen = (frozen: boolean) => {
    const trainable = new Set(parametersWithPrefix(G, outermostEnhancerPrefix(opts)));
    for (const p of G.parameters()) if (!trainable.has(p)) p.requiresGrad_(!frozen);
  };
  let lr = learningRateAt(state.epoch, opts);
  let optimizerG = makeOptimizerG(fixGlobal, lr);
  const optimizerD = new Adam(D.parameters(), { lr, betas: [opts.beta1, 0.999] });
  if (fixGlobal) {
    setGlobalFrozen(true);
    message(`only the outermost local enhancer trains for the first ${opts.niter_fix_global} epochs`);
  }
  if (resumed) {
    loadNetwork(G, netPath(runDir, 'latest', 'G'));
    loadNetwork(D, netPath(runDir, 'latest', 'D'));
    if (E) loadNetwork(E, netPath(runDir, 'latest', 'E'));
    for (const [opt, file] of [[optimizerG, 'latest_optim_G.pth'], [optimizerD, 'latest_optim_D.pth']] as const) {
      if (existsSync(join(runDir, file))) loadOptimizer(opt, join(runDir, file));
    }
    optimizerG.setLr(lr);
    optimizerD.setLr(lr);
  }

  const pool = opts.pool_size > 0 ? new ImagePool(opts.pool_size, randomSource(deriveSeed(opts.seed, 'pool', state.totalSteps))) : null;
  const stepper = new TrainStep(
    { G, D, E, vggLoss, optimizerG, optimizerD, fakePool: pool, amp: opts.fp16 ? { deviceType: 'cuda', scaler: new GradScaler() } : null },
    { num_D: opts.num_D, n_layers_D: opts.n_layers_D, lambda_feat: opts.lambda_feat, no_ganFeat_loss: opts.no_ganFeat_loss, no_vgg_loss: opts.no_vgg_loss, no_lsgan: opts.no_lsgan },
  );

  const epochs = totalEpochs(opts);
  events.onStart?.({
    runDir, epochs, datasetSize: data.size, startEpoch: state.epoch, resumed,
    parameters: { G: G.parameterCount(), D: D.parameterCount(), ...(E ? { E: E.parameterCount() } : {}) },
  });
  const checkpointParts = () => ({ G, D, E: E ?? undefined, optimizerG, optimizerD });
  let lastLosses: StepLosses | null = null;

  for (let epoch = state.epoch; epoch <= epochs; epoch++) {
    const epochStart = performance.now();
    lr = learningRateAt(epoch, opts);
    optimizerG.setLr(lr);
    optimizerD.setLr(lr);
    let epochIter = epoch === state.epoch ? state.epochIter : 0;
    for await (const batch of data.epoch(epoch, epochIter)) {
      const t0 = performance.now();
      const display = opts.display_freq > 0 && (state.totalSteps + batch.batchSize) % opts.display_freq < batch.batchSize;
      const { losses, fake } = tidy(() => {
        const tensors = batchToTensors(batch, opts, device);
        if (!tensors.realImage) throw new Error(`no photo for ${batch.paths.join(', ')}: training needs photos`);
        return stepper.step({ inputLabel: tensors.inputLabel, realImage: tensors.realImage, ...featureInputs(tensors, batch, opts) }, { keepFake: display });
      });
      state.totalSteps += batch.batchSize;
      epochIter += batch.batchSize;
      lastLosses = losses;
      events.onIteration?.({ epoch, epochIter, totalSteps: state.totalSteps, losses, lr, seconds: (performance.now() - t0) / 1000 });
      if (fake) {
        try {
          events.onDisplay?.({ epoch, totalSteps: state.totalSteps, batch, fake });
        } finally {
          fake.dispose();
        }
      }
      if (opts.save_latest_freq > 0 && state.totalSteps % opts.save_latest_freq < batch.batchSize) {
        saveCheckpoint(runDir, 'latest', checkpointParts(), { ...state, epoch, epochIter });
        events.onSave?.({ which: 'latest', epoch, totalSteps: state.totalSteps });
      }
    }

    // End of epoch: numbered checkpoint, G1 joins after niter_fix_global, lr decays.
    if (opts.netG === 'local' && opts.niter_fix_global > 0 && epoch === opts.niter_fix_global && !state.globalUnfrozen) {
      setGlobalFrozen(false);
      optimizerG.dispose();
      optimizerG = makeOptimizerG(false, lr);
      stepper.parts.optimizerG = optimizerG;
      state.globalUnfrozen = true;
      message(`epoch ${epoch}: G1 now trains with the local enhancer`);
    }
    const next: TrainingState = { ...state, epoch: epoch + 1, epochIter: 0 };
    const saveEpoch = opts.save_epoch_freq > 0 && epoch % opts.save_epoch_freq === 0;
    if (saveEpoch || epoch === epochs) {
      saveCheckpoint(runDir, 'latest', checkpointParts(), next);
      saveCheckpoint(runDir, String(epoch), { G, D, E: E ?? undefined });
      events.onSave?.({ which: String(epoch), epoch, totalSteps: state.totalSteps });
    }
    state = next;
    events.onEpochEnd?.({ epoch, seconds: (performance.now() - epochStart) / 1000, lr });
  }

  pool?.dispose();
  optimizerG.dispose();
  optimizerD.dispose();
  vgg?.dispose();
  E?.dispose();
  D.dispose();
  G.dispose();
  return { runDir, totalSteps: state.totalSteps, lastLosses };
}

/**
 * What the features of a run take from a batch, as the official model: E averages over the
 * instance map, or over the label map with label_feat; load_features runs (no E) read the
 * precomputed maps instead. Runs without features take neither.
 */
function featureInputs(t: BatchTensors, batch: DataBatch, o: NetworkOptions): { inst?: Tensor | null; feat?: Tensor | null } {
  if (!usesFeatures(o)) return {};
  if (o.load_features) {
    if (!t.feat) throw new Error(`load_features: no precomputed feature map was loaded for ${batch.paths.join(', ')} (run 'pix2pixhd precompute-features' first)`);
    if (t.feat.shape[1] !== o.feat_num) throw new Error(`load_features: the feature maps have ${t.feat.shape[1]} channels, feat_num is ${o.feat_num}`);
    return { feat: t.feat };
  }
  if (o.label_feat) {
    if (!t.label) throw new Error('label_feat needs a label map of class ids (label_nc > 0)');
    return { inst: t.label };
  }
  if (!t.inst) throw new Error('instance_feat needs the instance maps: do not set --no_instance');
  return { inst: t.inst };
}

/**
 * load_pretrain: a G1-only run (netG global, twice this run's ngf per enhancer) starts this
 * run's G1; its output layer is not part of G2 and is left out. D is taken when its shapes fit.
 */
function loadPretrained(G: Generator, D: { loadStateDict: Generator['loadStateDict'] }, opts: TrainOptions, message: (t: string) => void): void {
  const dir = opts.load_pretrain;
  const gPath = netPath(dir, opts.which_epoch, 'G');
  if (!existsSync(gPath)) throw new Error(`load_pretrain: ${gPath} not found (expected a run folder holding ${opts.which_epoch}_net_G.pth)`);
  noGrad(() => {
    const saved = loadTensorDict(gPath);
    try {
      const own = G.stateDict();
      const usable = new Map([...saved].filter(([k]) => own.has(k)));
      const { missing } = G.loadStateDict(usable, { strict: false, source: gPath });
      message(`load_pretrain: G from ${gPath} (${usable.size} tensors; ${missing.length} new: the local enhancer)`);
    } finally {
      for (const t of saved.values()) t.dispose();
    }
  });
  const dPath = netPath(dir, opts.which_epoch, 'D');
  if (existsSync(dPath)) {
    try {
      loadNetwork(D as never, dPath);
      message(`load_pretrain: D from ${dPath}`);
    } catch (e) {
      message(`load_pretrain: D in ${dPath} does not fit this run's D, which starts fresh (${(e as Error).message.split('\n')[0]})`);
    }
  }
}
