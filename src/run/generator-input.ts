// The one path from maps to G's input (the official model's encode_input plus its feature map):
// training, `test`, `eval`, the editor's workers and the ONNX export all build G's input here.
//
//   condition = one-hot(label) ++ instanceEdges(inst)       (or the input image, label_nc 0)
//   input     = condition ++ features                        (runs with instance features)
//
// D is conditioned on `condition`; G takes `input`. A feature run's features come from one of:
//   - 'encoder':     E on the real photo, averaged per instance (or per class with label_feat);
//                    with gradients while training (E trains with G), padded to E's size
//                    multiple and without gradients at synthesis (--use_encoded_image);
//   - 'styles':      per object a cluster of its class from the run's style bank, chosen by
//                    a styles file / the editor or drawn at random, seeded per image name;
//                    without a bank every object gets zero features (the editor before clustering);
//   - 'precomputed': the batch's feature maps ({phase}_feat/, --load_features runs).
import type { Batch } from '../data/index.js';
import { encodeFeatures, groupMap } from '../features/encode.js';
import { choicesForImage, sampleFeatureMap, type ChosenFeature, type StyleChoices, type StylesFile } from '../features/feature-map.js';
import type { StyleBank } from '../features/style-bank.js';
import type { Encoder } from '../models/encoder.js';
import { usesFeatures, type NetworkOptions } from '../models/from-options.js';
import { encodeInput } from '../models/input-encoding.js';
import type { OnehotLayout } from '../models/onehot-input.js';
import { cat, tensor, type Tensor } from '../torch/index.js';

import { itemName } from './item-name.js';

export { itemName };

/** The maps of a batch as the data layer yields them (the editor builds the same from a request). */
export type Maps = Pick<Batch, 'size' | 'label' | 'inst' | 'image' | 'feat' | 'width' | 'height' | 'paths'>;

/** Where a feature run's features come from (see the file's comment). */
export type FeatureSource =
  | { kind: 'encoder'; E: Encoder; training?: boolean }
  | { kind: 'styles'; bank: StyleBank | null; styles?: StylesFile | null; choices?: StyleChoices; seed: number }
  | { kind: 'precomputed' };

export interface GeneratorInput {
  /** What D is conditioned on: the label encoding [N, labelChannels, H, W]. */
  condition: Tensor;
  /** What G takes: the condition and, for feature runs, the feature map. */
  input: Tensor;
  /** The photo [N, output_nc, H, W] in [-1, 1], when the maps have one. */
  realImage: Tensor | null;
  /** Feature runs with styles: per item, the feature vector each object got and how. */
  chosen: ChosenFeature[][] | null;
  /** Which of input's channels are one-hot labels and boundaries (G's opening conv uses it); null for image inputs. */
  layout: OnehotLayout | null;
}

/**
 * G's input for `maps` on `device`. Tensors are made in the caller's scope (wrap in tidy).
 * A feature run without a feature source is an error that says where features can come from.
 */
export function generatorInput(maps: Maps, o: NetworkOptions, features: FeatureSource | null, device = 'cpu'): GeneratorInput {
  const { size: n, height: h, width: w } = maps;
  const dev = device !== 'cpu' ? { device } : {};
  const label = o.label_nc === 0
    ? tensor(maps.label as Float32Array, [n, o.input_nc, h, w], dev)
    : tensor(maps.label as Int32Array, [n, 1, h, w], { dtype: 'int64', ...dev });
  const inst = maps.inst && !o.no_instance ? tensor(maps.inst, [n, 1, h, w], { dtype: 'int64', ...dev }) : null;
  const condition = encodeInput({ label, inst }, { label_nc: o.label_nc, no_instance: o.no_instance });
  const realImage = maps.image ? tensor(maps.image, [n, maps.image.length / (n * h * w), h, w], dev) : null;
  const layout: OnehotLayout | null = o.label_nc === 0
    ? null
    : { labels: label.squeeze(1), edges: o.no_instance ? null : condition.select(1, o.label_nc), labelNc: o.label_nc };
  if (!usesFeatures(o)) return { condition, input: condition, realImage, chosen: null, layout };

  const where = maps.paths.length ? maps.paths.join(', ') : 'the maps';
  if (!features) {
    throw new Error(
      'this run uses instance features (--instance_feat / --label_feat): give their source, either clusters from ' +
        "'pix2pixhd encode-features' (--cluster_path, optionally --styles) or --use_encoded_image (encode the real photos)",
    );
  }
  let feat: Tensor;
  let chosen: ChosenFeature[][] | null = null;
  if (features.kind === 'precomputed') {
    if (!maps.feat) throw new Error(`load_features: no precomputed feature map was loaded for ${where} (run 'pix2pixhd precompute-features' first)`);
    // Feature maps load as RGB images: their channel count is the file's.
    const channels = maps.feat.length / (n * h * w);
    if (channels !== o.feat_num) throw new Error(`load_features: the feature maps have ${channels} channels, feat_num is ${o.feat_num}`);
    feat = tensor(maps.feat, [n, channels, h, w], dev);
  } else if (features.kind === 'encoder') {
    if (!realImage) throw new Error(`${where}: features encoded from the photo (--use_encoded_image) need the real photo of every map`);
    const groups = tensor(groupMap(o, maps.label, maps.inst, where), [n, 1, h, w], { dtype: 'int64', ...dev });
    feat = features.training ? features.E.forward(realImage, groups) : encodeFeatures(features.E, realImage, groups);
  } else {
    if (features.bank && features.bank.featNum !== o.feat_num) {
      throw new Error(`the style bank has feature vectors of ${features.bank.featNum} values, the run uses feat_num ${o.feat_num}`);
    }
    const plane = h * w;
    const all = new Float32Array(n * o.feat_num * plane);
    chosen = [];
    const allGroups = features.bank ? groupMap(o, maps.label, maps.inst, where) : null;
    for (let i = 0; i < n; i++) {
      if (!features.bank || !allGroups) { chosen.push([]); continue; } // no clusters: zero features
      const groups = allGroups.subarray(i * plane, (i + 1) * plane);
      const name = itemName(maps.paths[i]);
      const choices = features.choices ?? choicesForImage(features.styles, name);
      const s = sampleFeatureMap(groups, w, h, features.bank, { choices, seed: features.seed, ...(name ? { name } : {}) });
      all.set(s.map, i * o.feat_num * plane);
      chosen.push(s.chosen);
    }
    feat = tensor(all, [n, o.feat_num, h, w], dev);
  }
  return { condition, input: cat([condition, feat], 1), realImage, chosen, layout };
}
