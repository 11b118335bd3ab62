// Deterministic crash points for the tests of crash safety. The process kills itself with SIGKILL
// (no clean-up, as a power cut or the OOM killer would) at a moment the environment names:
//   PIX2PIXHD_KILL_AFTER_STEP=N     once training iteration N and any save that follows it are done
//                                   (with PIX2PIXHD_KILL_RANK=r, only rank r of a data-parallel job:
//                                   the process whose RANK is r);
//   PIX2PIXHD_KILL_AT_SAVE_OP=N     right after the N-th file operation of the checkpoint writer
//                                   (counted over the whole process: every save of the run);
//   PIX2PIXHD_TRACE_SAVE_OPS=1      prints `save-op N <what>` to stderr for each of those operations,
//                                   so a test can learn how many there are and what each one is.
// Unset, each point is one comparison.
const killAfterStep = Number(process.env.PIX2PIXHD_KILL_AFTER_STEP ?? NaN);
const killRank = process.env.PIX2PIXHD_KILL_RANK;
const killHere = killRank === undefined || killRank === '' || killRank === (process.env.RANK ?? '0');
const killAtSaveOp = Number(process.env.PIX2PIXHD_KILL_AT_SAVE_OP ?? NaN);
const traceSaveOps = process.env.PIX2PIXHD_TRACE_SAVE_OPS === '1';
let saveOps = 0;

/** SIGKILLs this process when `totalSteps` is the step the environment names. */
export function killPoint(totalSteps: number): void {
  if (totalSteps === killAfterStep && killHere) process.kill(process.pid, 'SIGKILL');
}

/** Marks one completed file operation of a save (a write, rename, link or removal). */
export function saveOpDone(what: string): void {
  saveOps++;
  if (traceSaveOps) process.stderr.write(`save-op ${saveOps} ${what}\n`);
  if (saveOps === killAtSaveOp) process.kill(process.pid, 'SIGKILL');
}
