// One rank of the data-parallel parity test (test/dist/data-parallel.test.ts): trains as
// `pix2pixhd train` does with torchrun's variables, except that every rank writes its own run
// folder (NAME_rankR), so the test can compare the ranks' weights with each other.
import { join } from 'node:path';
import { launchEnvFrom } from '../../src/dist/launch-env.js';
import { joinAsRank } from '../../src/dist/rank-setup.js';
import { parseOptions } from '../../src/options/parse.js';
import { applyDebug, applyThreads, runConfig } from '../../src/run/index.js';
import { trainingBatches } from '../../src/train/data-source.js';
import { train, type RankGroup } from '../../src/train/trainer.js';

const { values } = parseOptions(process.argv.slice(2), ['base', 'train']);
applyDebug(values);
const base = runConfig(values);
applyThreads(base.threads);
const env = launchEnvFrom();
if (!env) throw new Error('train-rank.ts runs as a rank: set RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT');
const { ranks, device } = joinAsRank(base, env);
const everyRankWrites: RankGroup = {
  rank: ranks.rank, worldSize: ranks.worldSize, isWriter: true,
  broadcastFrom0: (m) => ranks.broadcastFrom0(m), barrier: () => ranks.barrier(),
  averageGradients: (loss, params, opts) => ranks.averageGradients(loss, params, opts),
};
const config = { ...base, device, dir: join(base.checkpoints_dir, `${base.name}_rank${env.rank}`) };
await train(config, trainingBatches(config.data, { rank: env.rank, count: env.worldSize }), {}, everyRankWrites);
ranks.dispose();
