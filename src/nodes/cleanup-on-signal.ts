// Signals while node-access objects exist (kube-exec pods, the daemonset's DaemonSet and ConfigMap):
// the first SIGINT, SIGTERM or SIGHUP starts the deletes under their own deadline; a second signal, or
// a deadline passed because the API is slow, prints the exact `kubectl delete` for what is left. Either
// way the process ends at once with 128 + the signal's number (130, 143, 129), as a shell reports it.
// This is the one place outside bin/ that exits the process: the command's own promise chain may be
// stuck on that slow API, and a signal must end the run.
import { signalExitCode } from '../errors.ts';

export const CLEANUP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** How long the first signal's deletes may take before flannelctl gives up and prints the command. */
export const CLEANUP_DEADLINE_MS = 20_000;

export interface CleanupGuardOptions {
  /** What the objects are, for the progress line: "node-access pods of run abc123". */
  readonly what: string;
  /** Deletes everything; resolves when done (failures already reported by the caller). */
  readonly cleanup: () => Promise<void>;
  /** `kind/name` of every object that may still exist, e.g. ["pod/flannelctl-access-abc-node-1"]. */
  readonly leftovers: () => readonly string[];
  readonly namespace: string;
  readonly log: (line: string) => void;
  readonly deadlineMs?: number;
}

/** `kubectl delete -n <ns> pod/a pod/b`: names are DNS labels flannelctl built, safe to paste. */
export const kubectlDeleteCommand = (namespace: string, refs: readonly string[]): string =>
  `kubectl delete -n ${namespace} ${refs.join(' ')}`;

export interface CleanupGuard {
  /** Removes the handlers (after a normal close). */
  dispose(): void;
}

export const guardWithSignals = (options: CleanupGuardOptions): CleanupGuard => {
  let first: NodeJS.Signals | undefined;
  const write = (line: string): void => {
    try {
      options.log(line);
    } catch {
      /* a hung-up terminal (SIGHUP) may refuse the write; the cleanup still runs */
    }
  };
  const giveUp = (why: string): never => {
    const left = options.leftovers();
    if (left.length > 0) {
      write(`${why}: these may be left behind; delete them with:`);
      write(`  ${kubectlDeleteCommand(options.namespace, left)}`);
    }
    process.exit(signalExitCode(first ?? 'SIGINT'));
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (first) return giveUp(`${signal} again`);
    first = signal;
    write(`\ninterrupted (${signal}): deleting the ${options.what}… (again to stop waiting)`);
    const deadlineMs = options.deadlineMs ?? CLEANUP_DEADLINE_MS;
    const timer = setTimeout(
      () => giveUp(`the deletes did not finish within ${Math.round(deadlineMs / 1000)}s`),
      deadlineMs,
    );
    void options
      .cleanup()
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        // A delete that failed (reported by cleanup) leaves its object in leftovers().
        const left = options.leftovers();
        if (left.length > 0) giveUp('not every delete went through');
        process.exit(signalExitCode(signal));
      });
  };
  for (const s of CLEANUP_SIGNALS) process.on(s, onSignal);
  return {
    dispose: () => {
      // During a signal's cleanup the handlers stay: a second signal must still be heard.
      if (first) return;
      for (const s of CLEANUP_SIGNALS) process.removeListener(s, onSignal);
    },
  };
};
