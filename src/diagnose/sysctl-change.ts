// Sets sysctls on nodes and persists them in a drop-in under /etc/sysctl.d/, for check-rpfilter --fix
// and tune --apply. Every key, value and file name is checked against a strict pattern before it is
// put in a command: interface names come from the nodes themselves, so they are never trusted.
// Each command is one line that real sh and the virtual node's interpreter both run the same way.
import type { ListrTask } from 'listr2';
import { sysctlKey } from '../checks/finding.ts';
import type { Io } from '../io.ts';
import { NodeAccessError, type NodeExec, type NodeTarget } from '../nodes/exec.ts';
import { runTasks } from '../render/progress.ts';

export const SYSCTL_DIR = '/etc/sysctl.d';

/** What one node gets: `sysctl -w` now, and the same settings in `/etc/sysctl.d/<file>`. */
export interface SysctlChange {
  readonly node: NodeTarget;
  /** Dotted keys as the checks name them (net.ipv4.conf.flannel.1.rp_filter). */
  readonly settings: ReadonlyArray<readonly [string, string | number]>;
  readonly file: string;
  /** First line of the file, a comment saying who wrote it. */
  readonly header: string;
}

export interface SysctlChangeResult {
  readonly node: string;
  /** null when the commands ran; otherwise why they did not (unreachable, or the command's error). */
  readonly error: string | null;
}

// Linux interface names: at most 15 bytes, no '/', whitespace or quotes; a leading '-' would be an option.
const IFNAME = /^[A-Za-z0-9_][A-Za-z0-9_.@:-]{0,14}$/;
const KEY = /^net\.[a-z0-9_]+(\.[a-z0-9_]+)*$/;
const VALUE = /^[A-Za-z0-9_]+$/;
const FILE = /^[0-9a-z][0-9a-z-]*\.conf$/;
const HEADER = /^# [A-Za-z0-9 :,.()/_-]+$/;

export const isInterfaceName = (name: string): boolean => IFNAME.test(name) && name !== '.' && name !== '..';

/** Throws on anything that is not a plain sysctl setting; the dotted key may embed one interface name. */
const checkSetting = (key: string, value: string | number): void => {
  const iface = /^net\.ipv4\.conf\.(.+)\.rp_filter$/.exec(key)?.[1];
  const ok = iface !== undefined ? isInterfaceName(iface) : KEY.test(key);
  if (!ok || !VALUE.test(String(value)))
    throw new Error(`refusing to write sysctl ${JSON.stringify(key)} = ${JSON.stringify(value)}`);
};

/** The exact commands a node runs, one line each (what --dry-run prints). */
export const sysctlChangeCommands = (change: SysctlChange): string[] => {
  for (const [key, value] of change.settings) checkSetting(key, value);
  if (!FILE.test(change.file) || !HEADER.test(change.header))
    throw new Error(`refusing to write ${JSON.stringify(change.file)}`);
  const lines = [change.header, ...change.settings.map(([k, v]) => `${sysctlKey(k)} = ${v}`)];
  return [
    `sysctl -w ${change.settings.map(([k, v]) => `${sysctlKey(k)}=${v}`).join(' ')}`,
    `printf '%s\\n' ${lines.map((l) => `'${l}'`).join(' ')} > ${SYSCTL_DIR}/${change.file}`,
  ];
};

/**
 * The commands per node as text (`--dry-run`, and before the confirmation); nodes that run the same
 * commands share one block, headed by their names (`nameList` shortens it for the prompt).
 */
export const formatSysctlDryRun = (
  changes: readonly SysctlChange[],
  nameList: (names: string[]) => string = (names) => names.join(', '),
): string => {
  const blocks = new Map<string, string[]>();
  for (const c of changes) {
    const text = sysctlChangeCommands(c).join('\n');
    blocks.set(text, [...(blocks.get(text) ?? []), c.node.name]);
  }
  return [...blocks].map(([text, names]) => `# ${nameList(names)}\n${text}\n`).join('\n');
};

const runOnNode = async (change: SysctlChange, exec: NodeExec, timeoutMs: number): Promise<string | null> => {
  for (const command of sysctlChangeCommands(change)) {
    try {
      const r = await exec.run(change.node, `${command}\n`, { timeoutMs });
      if (r.exitCode !== 0) {
        const why = (r.stderr || r.stdout).trim().split('\n')[0] ?? '';
        return `${command.split(' ')[0]} failed (exit ${r.exitCode})${why ? `: ${why}` : ''}`;
      }
    } catch (error) {
      if (error instanceof NodeAccessError) return `${error.kind}: ${error.message}`;
      throw error;
    }
  }
  return null;
};

/**
 * Runs every node's commands (bounded concurrency, a progress row per node on stderr). A node that
 * cannot be reached or refuses a command is reported; the others are still changed.
 */
export const applySysctlChanges = async (
  changes: readonly SysctlChange[],
  exec: NodeExec,
  options: { io: Io; timeoutMs: number; concurrency: number; title: string },
): Promise<SysctlChangeResult[]> => {
  const results: SysctlChangeResult[] = [];
  const queue = [...changes];
  const worker = async (): Promise<void> => {
    for (let change = queue.shift(); change; change = queue.shift()) {
      results.push({ node: change.node.name, error: await runOnNode(change, exec, options.timeoutMs) });
    }
  };
  const task: ListrTask<object> = {
    title: options.title,
    task: async (_ctx, t) => {
      await Promise.all(Array.from({ length: Math.min(options.concurrency, changes.length) }, worker));
      const failed = results.filter((r) => r.error);
      t.title = `${options.title}: ${results.length - failed.length}/${results.length} node(s) changed`;
    },
  };
  await runTasks([task], options.io, { ctx: {} });
  return changes.map((c) => results.find((r) => r.node === c.node.name)!);
};
