// One rank under a stand-in for torchrun's agent (test/dist/collectives.test.ts): the agent serves
// the rendezvous store at MASTER_PORT (TORCHELASTIC_USE_AGENT_STORE=True), so no rank serves one;
// the ranks join through it, all-reduce once and print the result.
import { DataParallel } from '../../src/dist/data-parallel.js';
import { launchEnvFrom } from '../../src/dist/launch-env.js';
import { noGrad, tensor } from '../../src/torch/index.js';

const env = launchEnvFrom()!;
const dp = DataParallel.join(env, { backend: 'gloo', timeoutSeconds: 30 });
const x = tensor([env.rank + 1], undefined, { dtype: 'float32' });
noGrad(() => dp.group.allreduce([x], 'sum').wait());
process.stdout.write(JSON.stringify({ rank: env.rank, agentStore: env.agentStore, sum: x.toNumbers() }) + '\n');
dp.dispose();
