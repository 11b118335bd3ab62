// Sets up libtorch for a command that computes with it: the device it asked for exists, and the
// thread count. Apart from run-command.ts because importing it loads libtorch.
import { applyThreads, checkDevice } from '../run/device.js';
import type { RunConfig } from '../run/config.js';

/** Checks --gpu_ids against this libtorch and applies --threads; returns the thread count in effect. */
export function prepareRuntime(config: RunConfig): number {
  checkDevice(config.device, String(config.values.gpu_ids ?? config.device));
  return applyThreads(config.threads);
}
