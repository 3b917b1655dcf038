/**
 * How long operations report what they are doing. The core calls this interface; the CLI renders it
 * on a terminal (with elapsed time), the supervisor writes it to its log, tests may collect it.
 */
export interface Progress {
  /** Begins a step (optionally one that began earlier elsewhere, at `startedAt` ms); the handle ends it. */
  step(label: string, startedAt?: number): ProgressStep;
  /** A one-off line of information. */
  info(message: string): void;
}

export interface ProgressStep {
  /** Updates the step's current detail (e.g. "12/40 packages"). */
  update(detail: string): void;
  /** Ends the step; `endedAt` (ms) when it ended elsewhere earlier. */
  done(note?: string, endedAt?: number): void;
  fail(note?: string, endedAt?: number): void;
}

/** Progress nobody watches: every report is dropped on purpose. */
const ignore = (): void => undefined;
export const silentProgress: Progress = {
  step: () => ({ update: ignore, done: ignore, fail: ignore }),
  info: ignore,
};

/**
 * Progress as one line for an operation's record in the queue (what `tusk status`, the API and the
 * dashboard show of it): the running step, with its detail.
 */
export function reportingProgress(report: (line: string) => void): Progress {
  return {
    step(label) {
      report(label);
      return { update: (detail) => report(`${label}: ${detail}`), done: ignore, fail: ignore };
    },
    info: report,
  };
}

/** Runs `work` as one step: done on success, fail (and rethrow) on error. */
export async function withStep<T>(progress: Progress, label: string, work: (step: ProgressStep) => Promise<T>): Promise<T> {
  const step = progress.step(label);
  try {
    const result = await work(step);
    step.done();
    return result;
  } catch (e) {
    step.fail();
    throw e;
  }
}

/** Progress as timestamped lines on a stream (a log file): each step's start, detail and end. */
export function lineProgress(write: (line: string) => void): Progress {
  const at = () => new Date().toISOString();
  return {
    info: (message) => write(`${at()} ${message}\n`),
    step(label) {
      const started = Date.now();
      write(`${at()} … ${label}\n`);
      const end = (mark: string, note?: string) => write(`${at()} ${mark} ${label}${note ? ` — ${note}` : ""} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
      return {
        update: (detail) => write(`${at()}   ${detail}\n`),
        done: (note) => end("✓", note),
        fail: (note) => end("✗", note),
      };
    },
  };
}
