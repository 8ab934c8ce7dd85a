// The only place that knows exit codes. Library code throws these; src/cli.ts maps them.
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  incomplete: 3,
  internal: 70,
  /** SIGHUP, SIGINT (Ctrl-C), SIGTERM: 128 + the signal's number, as a shell reports them. */
  hangup: 129,
  interrupted: 130,
  terminated: 143,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code for a run ended by a signal (node-access cleanup exits with it). */
export const signalExitCode = (signal: NodeJS.Signals): ExitCodeValue =>
  signal === 'SIGHUP' ? ExitCode.hangup : signal === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted;

export class FlannelctlError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    /** One line telling the user how to fix it. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flags, bad files, bad values: exit 2, and nothing was changed. */
export class UsageError extends FlannelctlError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.usage, hint);
  }
}

/** An operation against the cluster or a node failed: exit 1. */
export class OperationError extends FlannelctlError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.failed, hint);
  }
}

/** Some facts could not be gathered (unreachable node, missing permission): exit 3. */
export class IncompleteError extends FlannelctlError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.incomplete, hint);
  }
}

export class InterruptedError extends FlannelctlError {
  constructor(message = 'Interrupted') {
    super(message, ExitCode.interrupted);
  }
}

/**
 * Ends a command whose result is already printed with a non-zero exit code, e.g. `install --diff`
 * finding differences or `doctor` finding failures. Nothing more is printed.
 */
export class ResultExit extends FlannelctlError {
  constructor(exitCode: ExitCodeValue) {
    super('', exitCode);
  }
}
