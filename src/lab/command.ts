// Every lab command goes through execFile with an argument array: no shell, no interpolation.
import { execFile, execFileSync } from 'node:child_process';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class LabCommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: CommandResult,
  ) {
    super(
      `lab: \`${argv.join(' ')}\` exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`,
    );
    this.name = 'LabCommandError';
  }
}

/** Runs a command and returns its result whatever the exit code. */
export const tryRun = (file: string, args: readonly string[], input?: string): Promise<CommandResult> =>
  new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        if (code === null) {
          reject(new Error(`lab: cannot run ${file}: ${error!.message}`));
          return;
        }
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });

/** Runs a command that must succeed. */
export const run = async (file: string, args: readonly string[], input?: string): Promise<CommandResult> => {
  const result = await tryRun(file, args, input);
  if (result.code !== 0) throw new LabCommandError([file, ...args], result);
  return result;
};

/** `ip …` in a namespace (`ip -n`), which works without entering it. */
export const ipIn = (netns: string, args: readonly string[]): Promise<CommandResult> =>
  run('ip', ['-n', netns, ...args]);

/** Any program inside a namespace. */
export const inNetns = (netns: string, argv: readonly string[]): Promise<CommandResult> =>
  run('ip', ['netns', 'exec', netns, ...argv]);

export const tryInNetns = (netns: string, argv: readonly string[]): Promise<CommandResult> =>
  tryRun('ip', ['netns', 'exec', netns, ...argv]);

export const sysctlIn = (netns: string, key: string, value: string | number): Promise<CommandResult> =>
  inNetns(netns, ['sysctl', '-qw', `${key}=${value}`]);

/** For exit handlers, where nothing asynchronous runs any more. */
export const runSyncQuiet = (file: string, args: readonly string[]): string => {
  try {
    return execFileSync(file, args, { stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).toString();
  } catch {
    return '';
  }
};
