import { Command, CommanderError } from 'commander';
import { ExitCode, FlannelctlError, ResultExit } from './errors.ts';
import { addGlobalOptions } from './global-options.ts';
import { processIo, type Io } from './io.ts';
import { printableText } from './report/printable.ts';
import { terminalSafeIo } from './report/safe-output.ts';
import { DEFAULT_FLANNEL_VERSION, FLANNELCTL_VERSION } from './version.ts';
import { commandModules } from './commands/index.ts';

export interface MainOptions {
  readonly io?: Io;
  /** How the program is invoked, for help text: "flannelctl" or "kubectl flannel". */
  readonly programName?: string;
}

/** A fresh program per call, so tests never share parser state. */
export const buildProgram = (io: Io, programName = 'flannelctl'): Command => {
  const program = new Command(programName)
    .description('Install, migrate, diagnose and benchmark Flannel, with the fast host-gw backend')
    .version(
      `flannelctl ${FLANNELCTL_VERSION} (renders flannel ${DEFAULT_FLANNEL_VERSION} by default)`,
      '--version',
    )
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
  addGlobalOptions(program);
  for (const register of commandModules) {
    const command = register(io);
    command
      .exitOverride()
      .configureHelp({ showGlobalOptions: true })
      .configureOutput({
        writeOut: (s) => io.stdout.write(s),
        writeErr: (s) => io.stderr.write(s),
      });
    program.addCommand(command);
  }
  return program;
};

/** Runs the CLI and returns the exit code; only bin/ exits the process. */
export const main = async (argv: readonly string[], options: MainOptions = {}): Promise<number> => {
  // Every message passes terminalSafe: cluster values must not drive the operator's terminal.
  const io = terminalSafeIo(options.io ?? processIo());
  const program = buildProgram(io, options.programName);
  try {
    await program.parseAsync([...argv]);
    return ExitCode.ok;
  } catch (error) {
    return reportError(error, io);
  }
};

const reportError = (error: unknown, io: Io): number => {
  if (error instanceof CommanderError) {
    // Help and --version "errors" are normal exits; commander has already printed its message.
    if (error.exitCode === 0) return ExitCode.ok;
    return ExitCode.usage;
  }
  if (error instanceof FlannelctlError) {
    if (error instanceof ResultExit) return error.exitCode;
    io.stderr.write(`error: ${printableText(error.message)}\n`);
    if (error.hint) io.stderr.write(`  hint: ${printableText(error.hint)}\n`);
    return error.exitCode;
  }
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr.write(
    `internal error: ${printableText(text)}\n  please report this at the flannelctl issue tracker\n`,
  );
  return ExitCode.internal;
};
