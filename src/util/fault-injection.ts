// Deterministic crash points for the tests of crash safety: a test that must kill a run at a
// known moment sets PIX2PIXHD_KILL_AFTER_STEP=N, and the trainer kills its own process with
// SIGKILL (no clean-up, as a power cut or the OOM killer) once iteration N and any save that
// follows it are done. With PIX2PIXHD_KILL_RANK=r as well, only rank r of a data-parallel job
// (the process whose RANK is r) dies. Unset, this is one comparison per iteration.
const killAfterStep = Number(process.env.PIX2PIXHD_KILL_AFTER_STEP ?? NaN);
const killRank = process.env.PIX2PIXHD_KILL_RANK;
const killHere = killRank === undefined || killRank === '' || killRank === (process.env.RANK ?? '0');

/** SIGKILLs this process when `totalSteps` is the step the environment names. */
export function killPoint(totalSteps: number): void {
  if (totalSteps === killAfterStep && killHere) process.kill(process.pid, 'SIGKILL');
}
