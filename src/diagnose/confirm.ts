// The gate in front of every command that changes nodes (check-rpfilter --fix, tune --apply): a
// prompt on a terminal, --yes elsewhere. Without either it refuses before anything is touched.
import { OperationError, UsageError } from '../errors.ts';
import type { GlobalOptions } from '../global-options.ts';
import { canPrompt, type Io } from '../io.ts';
import { askConfirm } from '../prompts.ts';

/** Called before gathering: a run that could never be confirmed stops here, nothing contacted. */
export const requireConfirmable = (io: Io, globals: GlobalOptions, flag: string): void => {
  if (globals.yes || canPrompt(io, false)) return;
  throw new UsageError(
    `${flag} changes sysctls on nodes and needs a confirmation, but there is no terminal to ask on (CI or no TTY); nothing was changed`,
    `pass --yes to apply the changes, or --dry-run to print the commands per node first`,
  );
};

/** Asks on a terminal unless --yes; a "no" ends the command with nothing changed. */
export const confirmChanges = async (io: Io, globals: GlobalOptions, question: string): Promise<void> => {
  if (globals.yes) return;
  requireConfirmable(io, globals, 'this command');
  if (!(await askConfirm(io, question))) throw new OperationError('cancelled; nothing was changed');
};
