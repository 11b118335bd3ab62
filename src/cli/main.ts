#!/usr/bin/env node
// The `pix2pixhd` command: parses the command line and calls the layers below; errors print one
// clear message (no stack trace) and exit with status 1 (2 for a bad command line).
import { OptionError } from '../options/parse.js';
import { demoCommand, DEMO_HELP } from './commands/demo.js';
import { evalCommand, EVAL_HELP } from './commands/eval.js';
import { fidCommand, FID_HELP } from './commands/fid.js';
import { exportCommand, EXPORT_HELP } from './commands/export.js';
import { makeDatasetCommand, MAKE_DATASET_HELP } from './commands/make-dataset.js';
import { serveCommand, SERVE_HELP } from './commands/serve.js';
import { testCommand, TEST_HELP } from './commands/test.js';
import { trainCommand, TRAIN_HELP } from './commands/train.js';
import { encodeFeaturesCommand, ENCODE_FEATURES_HELP } from './commands/encode-features.js';
import { precomputeFeaturesCommand, PRECOMPUTE_FEATURES_HELP } from './commands/precompute-features.js';
import { styleEvalCommand, STYLE_EVAL_HELP } from './commands/style-eval.js';
import { trainSegmenterCommand, TRAIN_SEGMENTER_HELP } from './commands/train-segmenter.js';

interface Command {
  summary: string;
  help: () => string;
  run: (argv: string[]) => Promise<unknown>;
}

const COMMANDS: Record<string, Command> = {
  demo: { summary: 'synthetic scenes → progressive training → synthesis → evaluation (the README\'s main job)', help: DEMO_HELP, run: demoCommand },
  train: { summary: 'train a model (the official train.py options)', help: TRAIN_HELP, run: trainCommand },
  test: { summary: 'synthesise a data set\'s test phase or one label map with a trained run', help: TEST_HELP, run: testCommand },
  eval: { summary: 'error figures of a trained run against real photos, beside the untrained network', help: EVAL_HELP, run: evalCommand },
  fid: { summary: 'FID (and KID) between two folders of images or .npz statistics, as pytorch-fid', help: FID_HELP, run: fidCommand },
  export: { summary: 'write a run\'s generator as an ONNX model (label and instance maps in, image out)', help: EXPORT_HELP, run: exportCommand },
  'make-dataset': { summary: 'write a synthetic data set of street scenes', help: MAKE_DATASET_HELP, run: makeDatasetCommand },
  serve: { summary: 'the editor: paint label maps, draw objects, pick their styles and synthesise in the browser', help: SERVE_HELP, run: serveCommand },
  'encode-features': { summary: 'encode every object of the training set with E and cluster each class\'s features (styles)', help: ENCODE_FEATURES_HELP, run: encodeFeaturesCommand },
  'precompute-features': { summary: 'write E\'s feature maps ({phase}_feat/) for training with --load_features', help: PRECOMPUTE_FEATURES_HELP, run: precomputeFeaturesCommand },
  'train-segmenter': { summary: 'train the compact segmenter that gives eval the paper\'s segmentation score on data without one', help: TRAIN_SEGMENTER_HELP, run: trainSegmenterCommand },
  'style-eval': { summary: 'synthetic scenes: do the car clusters recover the palette colours?', help: STYLE_EVAL_HELP, run: styleEvalCommand },
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
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.help());
    return 0;
  }
  try {
    await command.run(rest);
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
