// Deterministic crash points for the tests of crash safety: a test that must kill a run at a
// known moment sets PIX2PIXHD_KILL_AFTER_STEP=N, and the trainer kills its own process with
// SIGKILL (no clean-up, as a power cut or the OOM killer) once iteration N and any save that
// follows it are done. Unset, this is one comparison per iteration.
const killAfterStep = Number(process.env.PIX2PIXHD_KILL_AFTER_STEP ?? NaN);

/** SIGKILLs this process when `totalSteps` is the step the environment names. */
export function killPoint(totalSteps: number): void {
  if (totalSteps === killAfterStep) process.kill(process.pid, 'SIGKILL');
}
