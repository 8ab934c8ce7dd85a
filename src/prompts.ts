// Interactive questions, only ever asked when canPrompt() says so. @inquirer/prompts is loaded lazily.
import type { Io } from './io.ts';

export interface Choice<T extends string> {
  readonly value: T;
  readonly name: string;
  readonly description: string;
}

const streams = (io: Io) => ({ input: io.stdin, output: io.stderr });

export const askSelect = async <T extends string>(
  io: Io,
  message: string,
  choices: readonly Choice<T>[],
  initial?: T,
): Promise<T> => {
  const { select } = await import('@inquirer/prompts');
  return select<T>({ message, choices: [...choices], ...(initial ? { default: initial } : {}) }, streams(io));
};

export const askInput = async (
  io: Io,
  message: string,
  initial: string,
  validate: (value: string) => string | true,
): Promise<string> => {
  const { input } = await import('@inquirer/prompts');
  return input({ message, default: initial, validate }, streams(io));
};

export const askConfirm = async (io: Io, message: string, initial = false): Promise<boolean> => {
  const { confirm } = await import('@inquirer/prompts');
  return confirm({ message, default: initial }, streams(io));
};

/** A secret (e.g. an SSH key passphrase); nothing is echoed. */
export const askPassword = async (io: Io, message: string): Promise<string> => {
  const { password } = await import('@inquirer/prompts');
  return password({ message }, streams(io));
};
