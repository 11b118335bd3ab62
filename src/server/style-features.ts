// The feature map a feature run's G gets for the editor's maps, styles and seed, for in-browser
// synthesis: the browser runs G, the server keeps the style bank, and both draw the same styles
// the server's own synthesis would (generatorInput's 'styles' path, the same seed).
import { labelChannels, type NetworkOptions } from '../models/from-options.js';
import type { StyleBank } from '../features/style-bank.js';
import { generatorInput } from '../run/generator-input.js';
import { tidy } from '../torch/index.js';

export function styleFeatureMap(
  o: NetworkOptions, bank: StyleBank | null,
  maps: { width: number; height: number; label: Uint16Array; inst: Uint16Array | null },
  choices: Array<[number, number]>, seed: number,
): Float32Array {
  return tidy(() => {
    const x = generatorInput(
      { size: 1, width: maps.width, height: maps.height, label: Int32Array.from(maps.label), inst: maps.inst ? Int32Array.from(maps.inst) : null, image: null, feat: null, paths: [] },
      o, { kind: 'styles', bank, choices: { instances: new Map(choices) }, seed },
    );
    return x.input.narrow(1, labelChannels(o), o.feat_num).toFloat32Array();
  });
}
