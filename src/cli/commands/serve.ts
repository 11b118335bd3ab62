// `pix2pixhd serve`: the editor. Loads a trained run (G, and its style bank when it was trained
// with instance features) into synthesis worker threads and serves the web page on localhost.
import { availableParallelism } from 'node:os';
import { startEditorServer, type EditorServer } from '../../server/app.js';
import { LIMITS } from '../../server/limits.js';
import type { OptionDef } from '../../options/definitions.js';
import { helpText } from '../../options/parse.js';
import { checkDevice, loadRunOptions, runStyles } from '../../run/index.js';
import { precisionFor } from '../../infer/synthesize.js';
import { parseRunCommand } from '../run-command.js';

const EXTRA: OptionDef[] = [
  { name: 'port', kind: 'int', default: 8080, help: 'the port to listen on (0: any free port)', groups: [], range: { min: 0, max: 65535 } },
  { name: 'host', kind: 'string', default: '127.0.0.1', help: 'the address to bind; the default keeps the editor on this machine', groups: [] },
  {
    name: 'allowed_hosts', kind: 'string', default: '',
    help: 'comma-separated host names the editor also answers to (it answers to localhost, 127.0.0.1, [::1] and --host; other names are refused with 403 against DNS rebinding)',
    groups: [],
  },
  { name: 'workers', kind: 'int', default: 1, help: 'synthesis worker threads, each holding the generator', groups: [], range: { min: 1 } },
  { name: 'queue', kind: 'int', default: LIMITS.defaultQueue, help: 'synthesis requests that may wait for a worker; more are refused with 503 and Retry-After', groups: [], range: { min: 0 } },
  { name: 'browser_model_warn_mb', kind: 'float', default: 50, help: 'in-browser synthesis: the page asks before downloading a model larger than this (MiB); the starting value of the page\'s "ask above", which each visitor can change', groups: [], range: { min: 0 } },
];
const DEFAULTS = { phase: 'test' };
export const SERVE_USAGE = 'pix2pixhd serve --name RUN [--checkpoints_dir DIR] [--port 8080] [--dataroot DIR] [options]';
export const SERVE_HELP = () => helpText(SERVE_USAGE,
  'Starts the editor on http://127.0.0.1:PORT/: open a test scene of the run\'s data set (or upload a label\n' +
  'and instance map, or start blank), paint labels, draw and erase objects, pick each object\'s style (runs\n' +
  'trained with --instance_feat and clustered features), and synthesise. The network options come from the\n' +
  'run folder (opt.json / opt.txt); the data set defaults to the one the run was trained on (its --phase test).\n' +
  'Synthesis runs on --workers threads (each loads libtorch and the generator) with --threads libtorch threads\n' +
  'each (default: the cores shared out, at most 2 per worker); requests beyond --queue waiting ones get 503.\n' +
  '"Synthesise in this browser" downloads the run\'s generator as ONNX (exported on first use into the run\'s\n' +
  'onnx/ folder) and runs it with onnxruntime-web: WebGPU where the browser has it, WebAssembly otherwise.\n' +
  `Limits: uploads ${LIMITS.maxUploadBytes / 1048576} MiB, JSON bodies ${LIMITS.maxJsonBytes / 1048576} MiB, maps up to ${LIMITS.maxWidth}×${LIMITS.maxHeight}.`,
  ['base', 'serve'], EXTRA, DEFAULTS);

export async function serveCommand(argv: string[], out: NodeJS.WriteStream = process.stdout): Promise<EditorServer> {
  const { config, values: v, parsed } = parseRunCommand(argv, EXTRA, DEFAULTS, ['serve']);
  const dir = config.dir;
  // The data set the run was trained on, unless one is given.
  const saved = loadRunOptions(dir);
  const dataroot = parsed.explicit.has('dataroot') ? String(config.data.dataroot) : saved?.dataroot !== undefined ? String(saved.dataroot) : String(config.data.dataroot);
  const workers = Number(v.workers);
  const queue = Number(v.queue);
  const port = Number(v.port);
  // Each worker sets its own thread count (OpenMP's is per thread).
  const threads = config.threads > 0 ? config.threads : Math.min(2, Math.max(1, Math.floor(availableParallelism() / workers)));
  const device = checkDevice(config.device, String(v.gpu_ids));
  const { halfPrecision } = precisionFor(config.synthesis.data_type, device);
  const o = config.network;
  const styles = runStyles(config);
  const server = await startEditorServer({
    runDir: dir, name: config.name, which: config.which_epoch, network: o,
    dataroot, phase: String(config.data.phase), styles: styles.clusters, stylesNote: styles.note, device, threads, halfPrecision,
    pool: { workers, queue }, host: String(v.host), port, allowedHosts: String(v.allowed_hosts).split(','),
    browserModel: { warnAboveBytes: Number(v.browser_model_warn_mb) * 2 ** 20 }, ema: config.synthesis.use_ema,
    log: (line) => out.write(`${line}\n`),
  });
  out.write(
    `pix2pixhd serve: run ${config.name} (${config.which_epoch}), ${o.netG} generator, ${workers} worker(s) × ${threads} thread(s), queue ${queue}\n` +
    `styles: ${styles.note}\n` +
    `editor: ${server.url}   (Ctrl+C stops it)\n`,
  );
  const stop = (): void => {
    out.write('pix2pixhd serve: stopping\n');
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return server;
}
