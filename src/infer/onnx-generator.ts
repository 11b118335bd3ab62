// An exported generator (`pix2pixhd export`) run through onnxruntime-node: the same raw maps in as
// the editor and the data layer have (class ids, instance ids, a feature map), the image out.
// The model's recorded input layout must be the run's, or it is refused naming both.
import { readFile } from 'node:fs/promises';
import type * as Ort from 'onnxruntime-node';
// Imported file by file, not through onnx/index.ts: the exporter there loads libtorch, and this
// runner must work without it (test --onnx).
import { checkLayout, inputNames, layoutFromMetadata, type ModelLayout } from '../onnx/model-layout.js';
import { readMetadataProps } from '../onnx/proto.js';

export interface RawMaps {
  /** Class ids [h·w] (label_nc > 0), or the input image [input_nc·h·w] in [-1, 1] (label_nc 0). */
  label: Int32Array | Float32Array;
  inst: Int32Array | null;
  /** [feat_num·h·w], feature runs. */
  feat: Float32Array | null;
  width: number;
  height: number;
}

async function loadRuntime(): Promise<typeof Ort> {
  try {
    return await import('onnxruntime-node');
  } catch (e) {
    throw new Error(`--onnx needs the onnxruntime-node package (npm install onnxruntime-node): ${(e as Error).message}`);
  }
}

const int64 = (ids: Int32Array) => BigInt64Array.from(ids, (v) => BigInt(v));

export class OnnxGenerator {
  private constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    readonly layout: ModelLayout,
  ) {}

  /** Opens `path`, refusing a model whose inputs differ from `run`'s (label_nc, instance maps, features). */
  static async open(path: string, run: ModelLayout, opts: { threads?: number } = {}): Promise<OnnxGenerator> {
    const bytes = await readFile(path);
    const layout = layoutFromMetadata(readMetadataProps(bytes));
    checkLayout(layout, run, `the model ${path}`);
    const ort = await loadRuntime();
    const threads = opts.threads && opts.threads > 0 ? { intraOpNumThreads: opts.threads } : {};
    const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', ...threads });
    return new OnnxGenerator(ort, session, layout!);
  }

  /** The image [output_nc·h·w] in [-1, 1]. */
  async synthesize(maps: RawMaps): Promise<Float32Array> {
    const { ort, layout } = this;
    const { width: w, height: h } = maps;
    const feeds: Record<string, Ort.Tensor> = {};
    for (const name of inputNames(layout)) {
      if (name === 'label') {
        feeds.label = layout.label_nc === 0
          ? new ort.Tensor('float32', maps.label as Float32Array, [1, layout.input_nc, h, w])
          : new ort.Tensor('int64', int64(maps.label as Int32Array), [1, 1, h, w]);
      } else if (name === 'inst') {
        if (!maps.inst) throw new Error('this model takes an instance map, and the maps have none');
        feeds.inst = new ort.Tensor('int64', int64(maps.inst), [1, 1, h, w]);
      } else {
        if (!maps.feat) throw new Error('this model takes a feature map, and none was given');
        feeds.feat = new ort.Tensor('float32', maps.feat, [1, layout.feat_num, h, w]);
      }
    }
    const out = (await this.session.run(feeds))['image'];
    if (!out) throw new Error('the model has no output named image');
    return out.data as Float32Array;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
