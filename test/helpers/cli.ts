import { PassThrough } from 'node:stream';
import { main } from '../../src/cli.ts';
import type { Io } from '../../src/io.ts';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in-process with captured, non-TTY streams, as CI would. */
export const runCli = async (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> => {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const io: Io = { stdout, stderr, stdin: new PassThrough(), env: { CI: 'true', ...env }, isTTY: false };
  const code = await main(['node', 'flannelctl', ...args], { io });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
};
