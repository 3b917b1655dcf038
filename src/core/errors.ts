/**
 * One error contract for tusk. Every expected failure is a TuskError: one sentence saying what is
 * wrong, one saying what to do, and a distinct exit code. The CLI prints these without a stack trace;
 * anything else is a bug and exits with ExitCode.Internal.
 */
export const ExitCode = {
  Ok: 0,
  Internal: 1,
  Usage: 2,
  InvalidConfig: 3,
  PortInUse: 4,
  NotRoot: 5,
  InsufficientResources: 6,
  IncompatibleState: 7,
  PostgresFailed: 8,
  NotRunning: 9,
  InstallFailed: 10,
  Aborted: 11,
  Timeout: 12,
  ProcessFailed: 13,
  AlreadyExists: 14,
  OutsideWindow: 15,
  Unreachable: 16,
  ControlPlaneDown: 17,
} as const;
export type ExitCodeName = keyof typeof ExitCode;

export class TuskError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;
  readonly detail: string | undefined;

  constructor(code: ExitCodeName, message: string, options: { hint?: string; detail?: string } = {}) {
    super(message);
    this.name = "TuskError";
    this.exitCode = ExitCode[code];
    this.hint = options.hint;
    this.detail = options.detail;
  }

  /** The text shown to a user: message, optional detail block, then what to do. */
  format(): string {
    const parts = [`tusk: ${this.message}`];
    if (this.detail) parts.push(this.detail.replace(/^/gm, "  | "));
    if (this.hint) parts.push(`  → ${this.hint}`);
    return parts.join("\n");
  }

  toJSON(): { error: string; exitCode: number; hint?: string; detail?: string } {
    return { error: this.message, exitCode: this.exitCode, hint: this.hint, detail: this.detail };
  }
}

/** The name of an exit code (for errors that crossed the supervisor API as JSON). */
export function exitCodeName(code: number): ExitCodeName {
  return (Object.entries(ExitCode).find(([, v]) => v === code)?.[0] as ExitCodeName | undefined) ?? "Internal";
}

export function isTuskError(e: unknown): e is TuskError {
  return e instanceof TuskError;
}
