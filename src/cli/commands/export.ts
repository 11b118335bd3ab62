// `pix2pixhd export`: a run's generator as an ONNX model (opset 17) that takes the raw label and
// instance maps; see src/onnx/generator-model.ts for its inputs and output.
import { helpText, OptionError } from '../../options/parse.js';
import { describeLayout, layoutOf, writeRunGenerator } from '../../onnx/index.js';
import { parseRunCommand } from '../run-command.js';
import { prepareRuntime } from '../engine-runtime.js';

export const EXPORT_USAGE = 'pix2pixhd export --name RUN [--checkpoints_dir DIR] [--which_epoch E] [--fp16] --onnx OUT.onnx';
export const EXPORT_HELP = () => helpText(EXPORT_USAGE,
  'Writes the run\'s generator as an ONNX model (opset 17). Inputs: label (int64 [1, 1, H, W] class ids;\n' +
  'with label_nc 0 the float image [1, input_nc, H, W]), inst (int64 instance ids, unless no_instance),\n' +
  'feat (float [1, feat_num, H, W], feature runs); output: image (float [1, output_nc, H, W] in [-1, 1]).\n' +
  'H and W are free: the one-hot encoding, the instance edges, the padding to G\'s size multiple and the\n' +
  'crop back happen inside the model, as in \'pix2pixhd test\'. --fp16 stores the weights as float16 (half\n' +
  'the file; the model still computes in float32). The network options come from the run folder; give\n' +
  'them for a folder of official checkpoints.',
  ['base', 'test'], [], {});

export async function exportCommand(argv: string[], out: NodeJS.WriteStream = process.stdout): Promise<{ path: string; bytes: number }> {
  const { config, values } = parseRunCommand(argv, [], {});
  const path = String(values.onnx);
  if (!path) throw new OptionError('--onnx OUT.onnx: say where to write the model');
  prepareRuntime(config);
  const bytes = await writeRunGenerator(config, path, { fp16: config.train.fp16 });
  out.write(`${path}: ${(bytes / 2 ** 20).toFixed(1)} MiB, ${config.network.netG} generator of '${config.name}' (${config.which_epoch}); inputs for ${describeLayout(layoutOf(config.network))}\n`);
  return { path, bytes };
}
