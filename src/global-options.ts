import { Option, type Command } from 'commander';
import { parseDuration } from './duration.ts';
import { UsageError } from './errors.ts';

export type OutputFormat = 'text' | 'json' | 'yaml';

/** Flags every command understands, with kubectl's meanings. */
export interface GlobalOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
  /** Flannel's namespace; undefined means "discover it". */
  readonly namespace?: string;
  readonly output: OutputFormat;
  readonly yes: boolean;
  readonly timeoutMs: number;
  readonly color: boolean;
  readonly verbose: number;
}

export const addGlobalOptions = (program: Command): Command =>
  program
    .option('--kubeconfig <file>', 'path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option(
      '-n, --namespace <ns>',
      "flannel's namespace (default: discovered; kube-flannel, then legacy kube-system)",
    )
    .addOption(
      new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'yaml']).default('text'),
    )
    .option(
      '-y, --yes',
      'answer yes to confirmations; without a terminal or with CI=true nothing is asked (node changes such as --fix then need --yes)',
    )
    .option('--timeout <duration>', 'how long to wait for the cluster (e.g. 90s, 5m)', '5m')
    .option('--no-color', 'disable colour (also NO_COLOR)')
    .option(
      '-v, --verbose',
      'more detail on stderr (which address each node is reached at, the diff install applies)',
      (_v: string, total: number) => total + 1,
      0,
    );

/** Reads the global flags from any (sub)command. */
export const globalOptions = (command: Command): GlobalOptions => {
  const raw = command.optsWithGlobals() as Record<string, unknown>;
  const timeout = String(raw.timeout ?? '5m');
  const timeoutMs = parseDuration(timeout);
  if (timeoutMs <= 0)
    throw new UsageError(`--timeout ${timeout} must be greater than zero`, 'e.g. --timeout 5m');
  return {
    kubeconfig: raw.kubeconfig as string | undefined,
    context: raw.context as string | undefined,
    namespace: raw.namespace as string | undefined,
    output: (raw.output as OutputFormat | undefined) ?? 'text',
    yes: Boolean(raw.yes),
    timeoutMs,
    color: raw.color !== false,
    verbose: Number(raw.verbose ?? 0),
  };
};
