/**
 * The keeper restarts the supervisor when it dies, on machines without systemd (systemd's
 * Restart=always does the same job where it is the init system). What it does after each exit is a
 * pure decision over the exit and how long the supervisor had run.
 */

/** The supervisor exits with this code to be replaced (SIGUSR2: a control-plane restart or update); its children keep running. */
export const EXIT_REPLACE = 75;

/** A supervisor that ran this long was healthy: the back-off starts again from 1 s. */
export const STABLE_AFTER_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;

export interface SupervisorExit {
  code: number | null;
  signal: string | null;
  /** How long it had run. */
  uptimeMs: number;
}

export type KeeperAction = { action: "stop"; sentence: string } | { action: "hand-over"; sentence: string } | { action: "restart"; delayMs: number; failures: number; sentence: string };

/**
 * What the keeper does after the supervisor exits: a clean exit (tusk down) ends the keeper too; an
 * exit asking to be replaced hands over to the keeper of the release now recorded, at once; anything
 * else (a crash, kill -9) restarts it after 1, 2, 4 … 30 s, `failures` counting the quick deaths in
 * a row.
 */
export function afterExit(exit: SupervisorExit, failures: number): KeeperAction {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  if (exit.code === 0 && !exit.signal) return { action: "stop", sentence: "the supervisor stopped cleanly (tusk down): the keeper stops too" };
  if (exit.code === EXIT_REPLACE) return { action: "hand-over", sentence: "the supervisor asked to be replaced (a control-plane restart): starting the recorded release's keeper" };
  const quick = exit.uptimeMs < STABLE_AFTER_MS ? failures + 1 : 1;
  const delayMs = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (quick - 1));
  return { action: "restart", delayMs, failures: quick, sentence: `the supervisor ${how} after ${Math.round(exit.uptimeMs / 1000)} s: restarting it in ${delayMs / 1000} s` };
}
