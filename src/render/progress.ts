import type { ListrTask } from 'listr2';
import type { Io } from '../io.ts';
import { printableText } from '../report/printable.ts';
import { rawStream } from '../report/safe-output.ts';

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
  const renderer = chooseRenderer(Boolean((io.stderr as NodeJS.WriteStream).isTTY), io.env);
  // The animated renderer moves the cursor, which the terminal-safe stream would escape: it gets the
  // real stream, and every title and output line it draws is made printable here instead.
  const stderr = (renderer === 'default' ? rawStream(io.stderr) : io.stderr) as NodeJS.WriteStream;
  // A closed pipe (`| head`) must not crash the command: progress is a courtesy.
  stderr.on?.('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  const logger = new ListrLogger({ processOutput: new ProcessOutput(stderr, stderr), useIcons: true });
  const listr = new Listr<Ctx, ProgressRenderer, 'simple'>(tasks.map(printableTask), {
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

type AnyTask = ListrTask<any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const printableTitle = (value: unknown): unknown =>
  typeof value === 'string' ? printableText(value) : value;

/** The task as given, except that every title and output it shows (also of its subtasks) is printable. */
const printableTask = <T extends AnyTask>(task: T): T => {
  const run = task.task;
  return {
    ...task,
    title: printableTitle(task.title) as T['title'],
    task: (ctx: unknown, wrapper: object) =>
      run(
        ctx,
        new Proxy(wrapper, {
          set: (target, prop, value) =>
            Reflect.set(target, prop, prop === 'title' || prop === 'output' ? printableTitle(value) : value),
          get: (target, prop) => {
            const value = Reflect.get(target, prop, target) as unknown;
            if (prop === 'newListr' && typeof value === 'function')
              return (
                sub: AnyTask | AnyTask[] | ((parent: unknown) => AnyTask | AnyTask[]),
                ...rest: unknown[]
              ) => {
                const wrap = (t: AnyTask | AnyTask[]) =>
                  Array.isArray(t) ? t.map(printableTask) : printableTask(t);
                const tasks = typeof sub === 'function' ? (parent: unknown) => wrap(sub(parent)) : wrap(sub);
                return (value as (...a: unknown[]) => unknown).call(target, tasks, ...rest);
              };
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        }) as Parameters<T['task']>[1],
      ),
  } as T;
};
