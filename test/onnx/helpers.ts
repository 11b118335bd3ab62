// Runs exported models with onnxruntime-node (the independent checker: its kernels are not ours)
// and builds the same maps for libtorch.
import * as ort from 'onnxruntime-node';
import { buildGenerator, type Generator, type NetworkOptions } from '../../src/models/from-options.js';

export async function runOnnx(model: Uint8Array, feeds: Record<string, ort.Tensor>, output = 'image'): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  try {
    const out = (await session.run(feeds))[output]!;
    return { data: out.data as Float32Array, dims: out.dims };
  } finally {
    await session.release();
  }
}

export function int64Map(values: ArrayLike<number | bigint>, h: number, w: number): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), [1, 1, h, w]);
}

export function floatMap(values: Float32Array, c: number, h: number, w: number): ort.Tensor {
  return new ort.Tensor('float32', values, [1, c, h, w]);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A small network's options; override what a case needs. */
export function smallNetwork(over: Partial<NetworkOptions> = {}): NetworkOptions {
  return {
    label_nc: 7, input_nc: 3, output_nc: 3, netG: 'global', ngf: 8, n_downsample_global: 2, n_blocks_global: 1,
    n_blocks_local: 1, n_local_enhancers: 1, norm: 'instance', no_instance: false, instance_feat: false, label_feat: false,
    feat_num: 3, nef: 8, n_downsample_E: 2, load_features: false, ...over,
  };
}

/** A randomly initialised G in eval mode (seeded, so every run of the test is the same). */
export function randomGenerator(o: NetworkOptions, seed = 3): Generator {
  return buildGenerator(o, seed).eval();
}
