// Interactive questions, only ever asked when canPrompt() says so. @inquirer/prompts is loaded lazily.
import type { Io } from './io.ts';
import { printable } from './report/printable.ts';
import { rawStream } from './report/safe-output.ts';

export interface Choice<T extends string> {
  readonly value: T;
  readonly name: string;
  readonly description: string;
}

// The prompt redraws itself with cursor moves, so it writes to the real stream; what it shows from
// us (messages, choices, defaults) is made printable instead.
const streams = (io: Io) => ({ input: io.stdin, output: rawStream(io.stderr) });

export const askSelect = async <T extends string>(
  io: Io,
  message: string,
  choices: readonly Choice<T>[],
  initial?: T,
): Promise<T> => {
  const { select } = await import('@inquirer/prompts');
  return select<T>(
    {
      message: printable(message),
      choices: choices.map((c) => ({ ...c, name: printable(c.name), description: printable(c.description) })),
      ...(initial ? { default: initial } : {}),
    },
    streams(io),
  );
};

export const askInput = async (
  io: Io,
  message: string,
  initial: string,
  validate: (value: string) => string | true,
): Promise<string> => {
  const { input } = await import('@inquirer/prompts');
  return input(
    {
      message: printable(message),
      // A default from the live install is shown too; printable is the identity for a valid one.
      default: printable(initial),
      validate: (value) => {
        const verdict = validate(value);
        return verdict === true ? true : printable(verdict);
      },
    },
    streams(io),
  );
};

export const askConfirm = async (io: Io, message: string, initial = false): Promise<boolean> => {
  const { confirm } = await import('@inquirer/prompts');
  return confirm({ message: printable(message), default: initial }, streams(io));
};

/** A secret (e.g. an SSH key passphrase); nothing is echoed. */
export const askPassword = async (io: Io, message: string): Promise<string> => {
  const { password } = await import('@inquirer/prompts');
  return password({ message: printable(message) }, streams(io));
};
