// `mtu-probe`: gather like doctor, measure the path MTU of every chosen path over the open node
// connections, read the IP fragmentation counters again, and judge it all with the `mtu` check.
import type { MtuProbeFlags } from '../commands/mtu-probe.ts';
import type { NodeAccessOptions } from '../commands/node-access-flags.ts';
import { mtuCheck } from '../checks/mtu.ts';
import { ResultExit } from '../errors.ts';
import type { ClusterFacts, MtuProbeFacts, PathMtuResult } from '../facts/cluster-facts.ts';
import type { IpFragCounters } from '../facts/node-facts.ts';
import { parseSnmp } from '../facts/parse/snmp.ts';
import type { GlobalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import type { NodeExec, NodeTarget } from '../nodes/exec.ts';
import { Pool } from '../nodes/pool.ts';
import { runTasks } from '../render/progress.ts';
import { buildReport, exitCodeFor } from '../report/report.ts';
import { gatherCluster } from './gather-cluster.ts';
import { formatPathTable } from './mtu-table.ts';
import { planPaths, type PathTarget } from './path-plan.ts';
import { PingToolError, classifyPing, pingScript, searchPathMtu } from './path-mtu.ts';
import { writeReport } from './output.ts';

export interface MeasureOptions {
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly onDone?: (done: number) => void;
}

export interface Measured {
  readonly results: readonly PathMtuResult[];
  /** Paths that could not be measured (transport failure, no usable ping), with the reason. */
  readonly failures: readonly string[];
}

/** Measures every path, a bounded number at once; each path's pings run one after another. */
export const measurePaths = async (
  targets: readonly PathTarget[],
  nodes: ReadonlyMap<string, NodeTarget>,
  exec: NodeExec,
  options: MeasureOptions,
): Promise<Measured> => {
  const pool = new Pool(options.concurrency);
  const brokenSenders = new Map<string, string>();
  const failures: string[] = [];
  const results: PathMtuResult[] = [];
  let done = 0;
  await Promise.all(
    targets.map((t) =>
      pool.use(async () => {
        const label = `${t.node} → ${t.peer} (${t.target} ${t.address})`;
        try {
          const broken = brokenSenders.get(t.node);
          if (broken) throw new PingToolError(broken);
          const measured = await searchPathMtu(t.expected, async (size) => {
            const out = await exec.run(nodes.get(t.node)!, pingScript(t.address, size), {
              timeoutMs: options.timeoutMs,
              ...(options.signal ? { signal: options.signal } : {}),
            });
            return classifyPing(t.address, size, out);
          });
          results.push({
            node: t.node,
            peer: t.peer,
            target: t.target,
            address: t.address,
            largestPassed: measured.largestPassed,
            expected: t.expected,
            evidence: measured.evidence,
          });
        } catch (error) {
          if (options.signal?.aborted) throw error;
          const message = (error as Error).message;
          if (error instanceof PingToolError) brokenSenders.set(t.node, message);
          failures.push(`${label}: not measured: ${message}`);
        } finally {
          options.onDone?.(++done);
        }
      }, options.signal),
    ),
  );
  return { results, failures };
};

/** /proc/net/snmp's Ip fragmentation counters now, per node (nodes that fail to answer are left out). */
export const readFragCounters = async (
  nodes: readonly NodeTarget[],
  exec: NodeExec,
  options: MeasureOptions,
): Promise<Map<string, IpFragCounters>> => {
  const pool = new Pool(options.concurrency);
  const counters = new Map<string, IpFragCounters>();
  await Promise.all(
    nodes.map((node) =>
      pool.use(async () => {
        try {
          const out = await exec.run(node, 'cat /proc/net/snmp\n', { timeoutMs: options.timeoutMs });
          if (out.exitCode === 0) counters.set(node.name, parseSnmp(out.stdout).ipFrag);
        } catch {
          // No "after" sample: the fragmentation comparison is skipped for this node.
        }
      }, options.signal),
    ),
  );
  return counters;
};

export interface PathProbeRun {
  readonly mtuProbe: MtuProbeFacts;
  readonly failures: readonly string[];
  readonly description: string;
}

/** Plans, measures and samples the counters; progress (one counting row) on stderr. */
export const probeClusterPaths = async (
  facts: ClusterFacts,
  nodes: readonly NodeTarget[],
  exec: NodeExec,
  flags: Pick<MtuProbeFlags, 'pairs'>,
  access: Pick<NodeAccessOptions, 'concurrency' | 'commandTimeoutMs'>,
  io: Io,
): Promise<PathProbeRun> => {
  const plan = planPaths(facts, flags.pairs);
  for (const note of plan.notes) io.stderr.write(`warning: ${note}\n`);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const probed = facts.nodes.filter((n) => n.facts && byName.has(n.name)).map((n) => byName.get(n.name)!);
  const options = { concurrency: access.concurrency, timeoutMs: access.commandTimeoutMs };
  const total = plan.targets.length;
  const ctx = await runTasks<{ measured?: Measured; after?: Map<string, IpFragCounters> }>(
    [
      {
        title: `Measure the path MTU of ${total} path(s): ${plan.description}`,
        task: async (c, task) => {
          c.measured = await measurePaths(plan.targets, byName, exec, {
            ...options,
            onDone: (done) => (task.title = `Measure path MTU: ${done}/${total} paths`),
          });
          const failed = c.measured.failures.length;
          task.title = `Measured ${total - failed} of ${total} path(s)${failed ? `; ${failed} could not be measured` : ''}`;
        },
      },
      {
        title: 'Read IP fragmentation counters again',
        task: async (c) => {
          c.after = await readFragCounters(probed, exec, options);
        },
      },
    ],
    io,
    { ctx: {} },
  );
  const fragCounters: Record<string, { before: IpFragCounters; after: IpFragCounters }> = {};
  for (const node of facts.nodes) {
    const before = node.facts?.snmp?.ipFrag;
    const after = ctx.after?.get(node.name);
    if (before && after) fragCounters[node.name] = { before, after };
  }
  const measured = ctx.measured ?? { results: [], failures: [] };
  return {
    mtuProbe: { results: sortResults(measured.results), fragCounters },
    failures: measured.failures,
    description: plan.description,
  };
};

const sortResults = (results: readonly PathMtuResult[]): PathMtuResult[] =>
  [...results].sort(
    (a, b) =>
      a.node.localeCompare(b.node, 'en', { numeric: true }) ||
      a.peer.localeCompare(b.peer, 'en', { numeric: true }) ||
      a.target.localeCompare(b.target),
  );

export const runMtuProbe = async (
  flags: MtuProbeFlags,
  globals: GlobalOptions,
  access: NodeAccessOptions,
  io: Io,
): Promise<void> => {
  const gathered = await gatherCluster({
    globals,
    access,
    io,
    ...(flags.backend ? { backend: flags.backend } : {}),
  });
  let run: PathProbeRun;
  try {
    run = await probeClusterPaths(gathered.facts, gathered.selection.nodes, gathered.exec, flags, access, io);
  } finally {
    await gathered.exec.close();
  }
  for (const failure of run.failures) io.stderr.write(`warning: ${failure}\n`);
  const facts: ClusterFacts = { ...gathered.facts, mtuProbe: run.mtuProbe };
  const report = buildReport(facts, [mtuCheck], { kind: 'MtuProbeReport' });
  writeReport(report, globals, io, {
    failOn: flags.failOn,
    textAppendix: formatPathTable(run.mtuProbe.results, run.description),
  });
  // Nothing failed, but some paths are unknown: incomplete, as with an unreachable node.
  if (run.failures.length > 0 && exitCodeFor(report, { failOn: flags.failOn }) === 0) throw new ResultExit(3);
};
