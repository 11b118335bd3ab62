#!/usr/bin/env node
// The `pix2pixhd` command: parses the command line and calls the layers below; errors print one
// clear message (no stack trace) and exit with status 1 (2 for a bad command line).
import { OptionError } from '../options/parse.js';

interface CommandModule {
  help: () => string;
  run: (argv: string[]) => Promise<unknown>;
}

interface Command {
  summary: string;
  /**
   * The command's module, imported when the command runs: most load libtorch, and
   * `test --onnx` must work where libtorch is not installed.
   */
  load: () => Promise<CommandModule>;
}

const COMMANDS: Record<string, Command> = {
  demo: { summary: 'synthetic scenes → progressive training → synthesis → evaluation (the README\'s main job)', load: () => import('./commands/demo.js').then((m) => ({ help: m.DEMO_HELP, run: m.demoCommand })) },
  train: { summary: 'train a model (the official train.py options)', load: () => import('./commands/train.js').then((m) => ({ help: m.TRAIN_HELP, run: m.trainCommand })) },
  test: { summary: 'synthesise a data set\'s test phase or one label map with a trained run', load: () => import('./commands/test.js').then((m) => ({ help: m.TEST_HELP, run: m.testCommand })) },
  eval: { summary: 'error figures of a trained run against real photos, beside the untrained network', load: () => import('./commands/eval.js').then((m) => ({ help: m.EVAL_HELP, run: m.evalCommand })) },
  fid: { summary: 'FID (and KID) between two folders of images or .npz statistics, as pytorch-fid', load: () => import('./commands/fid.js').then((m) => ({ help: m.FID_HELP, run: m.fidCommand })) },
  export: { summary: 'write a run\'s generator as an ONNX model (label and instance maps in, image out)', load: () => import('./commands/export.js').then((m) => ({ help: m.EXPORT_HELP, run: m.exportCommand })) },
  'make-dataset': { summary: 'write a synthetic data set of street scenes', load: () => import('./commands/make-dataset.js').then((m) => ({ help: m.MAKE_DATASET_HELP, run: m.makeDatasetCommand })) },
  serve: { summary: 'the editor: paint label maps, draw objects, pick their styles and synthesise in the browser', load: () => import('./commands/serve.js').then((m) => ({ help: m.SERVE_HELP, run: m.serveCommand })) },
  'encode-features': { summary: 'encode every object of the training set with E and cluster each class\'s features (styles)', load: () => import('./commands/encode-features.js').then((m) => ({ help: m.ENCODE_FEATURES_HELP, run: m.encodeFeaturesCommand })) },
  'precompute-features': { summary: 'write E\'s feature maps ({phase}_feat/) for training with --load_features', load: () => import('./commands/precompute-features.js').then((m) => ({ help: m.PRECOMPUTE_FEATURES_HELP, run: m.precomputeFeaturesCommand })) },
  'train-segmenter': { summary: 'train the compact segmenter that gives eval the paper\'s segmentation score on data without one', load: () => import('./commands/train-segmenter.js').then((m) => ({ help: m.TRAIN_SEGMENTER_HELP, run: m.trainSegmenterCommand })) },
  'style-eval': { summary: 'synthetic scenes: do the car clusters recover the palette colours?', load: () => import('./commands/style-eval.js').then((m) => ({ help: m.STYLE_EVAL_HELP, run: m.styleEvalCommand })) },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(20)} ${c.summary}`);
  return `usage: pix2pixhd <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n'pix2pixhd <command> --help' lists a command's options.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`pix2pixhd: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    const module = await command.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(module.help());
      return 0;
    }
    await module.run(rest);
    return 0;
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`pix2pixhd ${name}: ${err.message}\n`);
    if (process.env.PIX2PIXHD_DEBUG) process.stderr.write(`${err.stack}\n`);
    // A command may end with a status of its own (the launcher: its failing rank's).
    const status = (e as { exitStatus?: unknown }).exitStatus;
    if (typeof status === 'number' && status > 0) return status;
    return e instanceof OptionError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
