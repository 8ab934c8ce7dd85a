import type { ListrTask } from 'listr2';
import type { Io } from '../io.ts';

export type ProgressRenderer = 'default' | 'simple';

/**
 * listr2 ignores CI=true and TERM=dumb and only checks for a TTY itself, so the choice is made here:
 * the animated renderer only on an interactive terminal, one line per event everywhere else.
 */
export const chooseRenderer = (stderrIsTTY: boolean, env: NodeJS.ProcessEnv): ProgressRenderer =>
  stderrIsTTY && env.TERM !== 'dumb' && !env.CI ? 'default' : 'simple';

/** Runs a task list with progress on stderr, so stdout carries only results (JSON stays parseable). */
export const runTasks = async <Ctx extends object>(
  tasks: ListrTask<Ctx>[],
  io: Io,
  options: { concurrent?: boolean; ctx: Ctx },
): Promise<Ctx> => {
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  const stderr = io.stderr as NodeJS.WriteStream;
  // A closed pipe (`| head`) must not crash the command: progress is a courtesy.
  stderr.on?.('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  const logger = new ListrLogger({ processOutput: new ProcessOutput(stderr, stderr), useIcons: true });
  const renderer = chooseRenderer(Boolean(stderr.isTTY), io.env);
  const listr = new Listr<Ctx, ProgressRenderer, 'simple'>(tasks, {
    renderer,
    fallbackRenderer: 'simple',
    concurrent: options.concurrent ?? false,
    exitOnError: true,
    registerSignalListeners: false,
    rendererOptions: { logger },
    fallbackRendererOptions: { logger },
    ctx: options.ctx,
  });
  return listr.run();
};
