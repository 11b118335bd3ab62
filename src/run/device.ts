// What the engine needs of a run configuration before it computes: the device it asked for exists
// in this libtorch, and libtorch's thread count. Apart from config.ts because it loads libtorch.
import { OptionError } from '../options/parse.js';
import { cudaDeviceCount, getNumThreads, setNumThreads } from '../torch/index.js';
import { requestedDevice } from './config.js';

/** The device a configuration asked for ('cpu' or 'cuda:N'), refused when this libtorch lacks it. */
export function checkDevice(device: string, gpuIds = device): string {
  if (!device.startsWith('cuda:')) return device;
  const index = Number(device.slice('cuda:'.length));
  const count = cudaDeviceCount();
  if (index >= count) {
    throw new OptionError(`--gpu_ids ${gpuIds}: this libtorch sees ${count} CUDA device${count === 1 ? '' : 's'}; use --gpu_ids -1 for the CPU`);
  }
  return device;
}

/** The device --gpu_ids asks for, checked against the CUDA devices this libtorch sees. */
export function deviceFor(gpuIds: string): string {
  return checkDevice(requestedDevice(gpuIds), gpuIds);
}

/** Sets libtorch's thread count from --threads (0 keeps the binding's default); returns the count in effect. */
export function applyThreads(threads: number): number {
  if (threads > 0) setNumThreads(threads);
  return getNumThreads();
}
