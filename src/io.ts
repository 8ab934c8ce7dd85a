import type { Readable, Writable } from 'node:stream';

/** Streams and environment a command runs with; tests pass their own. */
export interface Io {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
  readonly env: NodeJS.ProcessEnv;
  /** stdin and stdout are terminals. */
  readonly isTTY: boolean;
}

export const processIo = (): Io => ({
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  isTTY: Boolean(process.stdin.isTTY && process.stdout.isTTY),
});

/**
 * Prompts only happen on a real terminal, never in CI or with --yes.
 * @inquirer/prompts cannot tell by itself: on a closed pipe it rejects, on an open one it hangs.
 */
export const canPrompt = (io: Io, yes: boolean): boolean =>
  !yes && io.isTTY && !isTruthy(io.env.CI) && io.env.TERM !== 'dumb';

const isTruthy = (value: string | undefined): boolean =>
  value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';

/** Colour is on for terminals unless NO_COLOR is set or --no-color was given. */
export const useColor = (io: Io, flag: boolean): boolean =>
  flag &&
  (io.env.NO_COLOR === undefined || io.env.NO_COLOR === '') &&
  Boolean((io.stdout as { isTTY?: boolean }).isTTY || io.env.FORCE_COLOR);
