// `pix2pixhd export`: a run's generator as an ONNX model (opset 17) that takes the raw label and
// instance maps, and for runs with instance features its encoder E beside it; see
// src/onnx/generator-model.ts and src/onnx/encoder-model.ts for their inputs and outputs.
import { helpText, OptionError } from '../../options/parse.js';
import { describeLayout, layoutOf, writeRunModels } from '../../onnx/index.js';
import { parseRunCommand } from '../run-command.js';
import { prepareRuntime } from '../engine-runtime.js';

export const EXPORT_USAGE = 'pix2pixhd export --name RUN [--checkpoints_dir DIR] [--which_epoch E] [--fp16] --onnx OUT.onnx  (feature runs: also OUT_encoder.onnx)';
export const EXPORT_HELP = () => helpText(EXPORT_USAGE,
  'Writes the run\'s generator as an ONNX model (opset 17). Inputs: label (int64 [1, 1, H, W] class ids;\n' +
  'with label_nc 0 the float image [1, input_nc, H, W]), inst (int64 instance ids, unless no_instance),\n' +
  'feat (float [1, feat_num, H, W], feature runs); output: image (float [1, output_nc, H, W] in [-1, 1]).\n' +
  'H and W are free: the one-hot encoding, the instance edges, the padding to G\'s size multiple and the\n' +
  'crop back happen inside the model, as in \'pix2pixhd test\'. --fp16 stores the weights as float16 (half\n' +
  'the file; the model still computes in float32). The network options come from the run folder; give\n' +
  'them for a folder of official checkpoints.\n' +
  'Runs with --instance_feat / --label_feat (and an encoder: not --load_features) also get E beside it,\n' +
  'OUT_encoder.onnx: inputs image (float [1, output_nc, H, W], the photo in [-1, 1]) and inst (int64\n' +
  '[1, 1, H, W] instance ids; class ids for --label_feat), output feat (float [1, feat_num, H, W], every\n' +
  'pixel its instance\'s mean feature, as E gives G; padded to E\'s size multiple and cropped inside).',
  ['base', 'test'], [], {});

export async function exportCommand(argv: string[], out: NodeJS.WriteStream = process.stdout): Promise<{ path: string; bytes: number; encoderPath: string | null }> {
  const { config, values } = parseRunCommand(argv, [], {});
  const path = String(values.onnx);
  if (!path) throw new OptionError('--onnx OUT.onnx: say where to write the model');
  prepareRuntime(config);
  const { generator, encoder } = await writeRunModels(config, path, { fp16: config.train.fp16 });
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  out.write(`${path}: ${mib(generator.bytes)}, ${config.network.netG} generator of '${config.name}' (${config.which_epoch}); inputs for ${describeLayout(layoutOf(config.network))}\n`);
  if (encoder) out.write(`${encoder.path}: ${mib(encoder.bytes)}, its feature encoder E (photo and instance map in, instance-wise mean features out)\n`);
  return { path, bytes: generator.bytes, encoderPath: encoder?.path ?? null };
}
