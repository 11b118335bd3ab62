// `pix2pixhd train`: the official train.py's command line, with progress, logs and a page.
import { existsSync } from 'node:fs';
import { colorizeLabel, tensorToRgb } from '../../data/index.js';
import { imageToRgb } from '../../infer/synthesize.js';
import { parseOptions, helpText } from '../../options/parse.js';
import { applyDebug, applyRunOptions, loadRunOptions, runConfig, runDir, saveRunOptions, synthesisData } from '../../run/index.js';
import { trainingBatches } from '../../train/data-source.js';
import { estimateMemory } from '../../train/memory-estimate.js';
import { LossLog, ProgressBar, readLossLog, writeTrainingPage, type Sample } from '../../train/report/index.js';
import { checkPrecision, checkRecompute, train, type TrainResult } from '../../train/trainer.js';
import { prepareRuntime } from '../engine-runtime.js';
import { assertBackendAvailable, nn } from '../../torch/index.js';
import { launchEnvFrom } from '../../dist/launch-env.js';
import { launchRanks, withoutLauncherOptions } from '../../dist/launcher.js';
import { backendFor, checkDataParallel, joinAsRank, launcherRanks } from '../../dist/rank-setup.js';
import type { RankGroup } from '../../train/trainer.js';
import { readTrainingScores, TrainingEvaluator } from '../../eval/during-training.js';
import type { Generator } from '../../models/from-options.js';
import { saveCheckpoint } from '../../run/checkpoint.js';

export const TRAIN_USAGE = 'pix2pixhd train --name RUN --dataroot DIR [options]';
export const TRAIN_HELP = () => helpText(TRAIN_USAGE,
  'Trains pix2pixHD as the official train.py does (same option names and defaults). The run folder\n' +
  'checkpoints_dir/name receives opt.txt/opt.json, checkpoints (latest_net_G.pth, {epoch}_net_D.pth, …),\n' +
  'loss_log.jsonl / loss_log.txt and web/index.html. --continue_train resumes exactly where the last save was.',
  ['base', 'train']);

export async function trainCommand(argv: string[], out: NodeJS.WriteStream = process.stdout): Promise<TrainResult> {
  const parsed = parseOptions(argv, ['base', 'train']);
  // Resuming takes the run's own architecture, as test does (an explicit contradiction is an error).
  const resuming = parsed.values.continue_train === true && loadRunOptions(runDir(parsed.values)) !== undefined;
  const values = resuming ? applyRunOptions(parsed, runDir(parsed.values)).values : parsed.values;
  applyDebug(values);
  const launch = launchEnvFrom();
  const baseConfig = runConfig(values);
  checkPrecision(baseConfig);
  // One process asked to train on several: start the ranks here, as torchrun would, and wait.
  const nproc = launch ? 0 : launcherRanks(baseConfig);
  // The memory savers are refused where they cannot keep the numbers, before any rank starts.
  checkRecompute(baseConfig, launch ? launch.worldSize : Math.max(nproc, 1));
  if (nproc > 1) {
    checkDataParallel(baseConfig, nproc);
    // Said once here, not by every rank.
    assertBackendAvailable(backendFor(baseConfig.device, baseConfig.train.dist_backend));
    const { status, failure } = await launchRanks({ nproc, args: [process.argv[1]!, 'train', ...withoutLauncherOptions(argv)] });
    if (failure) throw Object.assign(new Error(`the job stopped: rank ${failure.rank} ${failure.how}`), { exitStatus: status });
    return { runDir: baseConfig.dir, totalSteps: -1, lastLosses: null };
  }
  // A rank of a job (torchrun, srun or the launcher above): join the others first.
  const joined = launch ? joinAsRank(baseConfig, launch) : null;
  const ranks: RankGroup | null = joined?.ranks ?? null;
  const config = joined ? { ...baseConfig, device: joined.device } : baseConfig;
  const writer = ranks?.isWriter ?? true;
  const threads = prepareRuntime(config);
  const { dir, device, network: net, train: opts } = config;
  const data = trainingBatches({ ...config.data, isTrain: true }, launch ? { rank: launch.rank, count: launch.worldSize } : null);
  const size = await data.sampleSize();
  // A resumed run keeps its saved options; a new one (or --continue_train on a folder without them) writes them.
  if (!resuming && writer) saveRunOptions(dir, values);
  if (!writer) {
    // The other ranks train silently: rank 0 alone writes logs, pages and the progress bar.
    try {
      return await train(config, data, {}, ranks);
    } finally {
      joined?.ranks.dispose();
    }
  }

  const log = new LossLog(dir);
  let bar: ProgressBar | undefined;
  let page: Promise<unknown> = Promise.resolve();
  let pageError: unknown;
  let pageWritten = false;
  let pending = { count: 0, seconds: 0 };
  let previousSteps: number | undefined;
  const say = (text: string) => (bar ? bar.log(text) : out.write(text + '\n'));
  const writePage = (samples: Sample[]) => {
    if (opts.no_html) return;
    page = page.then(() => writeTrainingPage(dir, {
      title: `pix2pixHD: ${config.name}`, samples, displayWidth: config.synthesis.display_winsize,
      losses: existsSync(log.jsonPath) ? readLossLog(log.jsonPath) : [], scores: readTrainingScores(dir),
    })).then(() => { pageWritten = true; }, (e: unknown) => { pageError ??= e; });
  };
  let totalSteps = 0;

  // --eval_freq: the segmentation score on a held-out phase every N epochs; the best G kept.
  const evalFreq = Number(values.eval_freq ?? 0);
  const evaluator = evalFreq > 0
    ? new TrainingEvaluator(dir, net, { ...synthesisData(config), phase: String(values.eval_phase), resize_or_crop: 'none' }, Number(values.eval_how_many),
      { device, seed: config.seed, log: (line) => say(line.trimEnd()) })
    : null;
  let G: Generator | null = null;

  const result = await train(config, data, {
    onStart(info) {
      G = info.networks.G as Generator;
      // Steps after the point training starts from are logged anew: the log keeps one record per step.
      log.resumeAt(info.startStep);
      const m = estimateMemory({ ...net, batchSize: opts.batchSize / (launch?.worldSize ?? 1), no_vgg_loss: opts.no_vgg_loss, recompute_blocks: opts.recompute_blocks, D_real_first: opts.D_real_first, recompute_vgg: opts.recompute_vgg, device, fp16: opts.fp16 }, info.parameters, size);
      out.write(`run folder: ${info.runDir}\n`);
      if (launch && joined) out.write(`data-parallel: ${launch.worldSize} ranks (${launch.source}), ${joined.backend}, rendezvous ${launch.masterAddr}:${launch.masterPort}; batchSize ${opts.batchSize} is ${opts.batchSize / launch.worldSize} per rank\n`);
      out.write(`training images: ${data.paths}, ${info.epochs} epochs, ${threads} threads on ${device}${info.resumed ? `, resuming at epoch ${info.startEpoch}` : ''}\n`);
      out.write(`${m.summary}\n`);
      if (config.verbose) for (const [name, module] of Object.entries(info.networks)) out.write(`${nn.networkSummary(`net${name}`, module)}\n`);
      bar = new ProgressBar({ totalEpochs: info.epochs, epochSize: info.datasetSize, printFreq: opts.print_freq, stream: out });
    },
    onIteration(info) {
      totalSteps = info.totalSteps;
      bar?.update({ epoch: info.epoch, iter: info.epochIter, losses: info.losses as unknown as Record<string, number> });
      pending.count++;
      pending.seconds += info.seconds;
      // A line each time total_steps passes a multiple of print_freq; an epoch's last batch may be smaller than batchSize.
      const before = previousSteps ?? info.totalSteps - Math.min(opts.batchSize, info.epochIter);
      const crossed = opts.print_freq > 0 && Math.floor(info.totalSteps / opts.print_freq) > Math.floor(before / opts.print_freq);
      previousSteps = info.totalSteps;
      if (crossed) {
        log.append({ epoch: info.epoch, iter: info.epochIter, total_steps: info.totalSteps, time: pending.seconds / pending.count, lr: info.lr, losses: info.losses as unknown as Record<string, number> });
        pending = { count: 0, seconds: 0 };
      }
    },
    onDisplay({ epoch, totalSteps, batch, fake }) {
      if (opts.no_html) return;
      const { width: w, height: h } = batch;
      const input = net.label_nc === 0
        ? tensorToRgb(batch.label as Float32Array, w, h)
        : colorizeLabel((batch.label as Int32Array).subarray(0, w * h), w, h, net.label_nc);
      const synth = imageToRgb(fake, 0);
      const images = [
        { label: 'input_label', rgb: input, width: w, height: h },
        { label: 'synthesized_image', rgb: synth.rgb, width: w, height: h },
        { label: 'real_image', rgb: tensorToRgb(batch.image!, w, h), width: w, height: h },
      ];
      writePage([{ epoch, step: totalSteps, images }]);
    },
    onSave({ which, totalSteps }) {
      if (which !== 'latest') say(`saved checkpoint ${which} (total_steps ${totalSteps})`);
    },
    async onEpochEnd({ epoch, seconds }) {
      bar?.endEpoch(epoch, seconds);
      if (!evaluator || !G || epoch % evalFreq !== 0) return;
      const g: Generator = G;
      g.eval();
      try {
        const s = await evaluator.evaluate(g, epoch, totalSteps);
        say(`epoch ${epoch}: segmentation score on ${s.images} ${String(values.eval_phase)} images: pixel accuracy ${(100 * s.pixelAccuracy).toFixed(2)}%, mean IoU ${s.meanIou.toFixed(4)}${s.best ? ' (best so far: saved as best_net_G.pth)' : ''}`);
        if (s.best) saveCheckpoint(dir, 'best', { G: g });
        writePage([]);
      } finally {
        g.train();
      }
    },
    onMessage: say,
  }, ranks);
  joined?.ranks.dispose();
  bar?.close();
  evaluator?.dispose();
  await page;
  if (pageError) out.write(`warning: the HTML page could not be written: ${(pageError as Error).message}\n`);
  // The page is named only when one was written (not with --no_html or --display_freq 0).
  out.write(`done: ${result.totalSteps} iterations; checkpoints${pageWritten ? ' and web/index.html' : ''} in ${result.runDir}\n`);
  return result;
}
