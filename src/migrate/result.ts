// The versioned result of `flannelctl migrate` (-o json|yaml) and its text summary.
import type { GlobalOptions } from '../global-options.ts';
import { mixedMtuEffect } from '../checks/bridge-mtu.ts';
import type { Io } from '../io.ts';
import { printJson } from '../report/print-json.ts';
import { printYaml } from '../report/print-yaml.ts';
import type { StaleMtuNode, StaleOwner } from './cleanup.ts';
import type { PlannedRequest } from './requests.ts';
import type { ForcedFailure, MigrationState } from './state.ts';

export type MigrationOutcome =
  'migrated' | 'unchanged' | 'planned' | 'rolled-back' | 'rollback-failed' | 'incomplete';

export interface NodeResult {
  readonly node: string;
  readonly pod?: string;
  /** Seconds from the restart until the node's new pod was Ready. */
  readonly convertedAfterSeconds?: number;
  readonly backendType: string | null;
  /**
   * verified (annotation, routes, and its pods reached by pod IP from peers) | node-level (annotation and
   * routes; no pods on it to reach, or none reached) | failed | unreachable | pending
   */
  readonly verification: string;
  readonly message?: string;
}

export interface JoinedNodeResult {
  readonly node: string;
  /** Seconds after the restart when the node was first listed. */
  readonly seenAfterSeconds: number;
  readonly backendType: string | null;
  /** verified (the convergence check held it to the target), failed, or pending. */
  readonly verification: string;
  readonly message: string;
}

export interface PairLoss {
  readonly from: string;
  readonly to: string;
  readonly target: string;
  /** namespace/name of the pod whose IP is the target. */
  readonly pod?: string;
  readonly sent: number;
  readonly lost: number;
  readonly unmeasured: number;
}

export interface MigrationResult {
  readonly apiVersion: 'flannelctl/v1';
  readonly kind: 'MigrationResult';
  readonly outcome: MigrationOutcome;
  /** Whether anything in the cluster or on a node was changed by this run. */
  readonly changed: boolean;
  readonly namespace: string;
  readonly configMap: string;
  readonly daemonSet: string;
  readonly from: string;
  readonly to: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSeconds: number;
  readonly message: string;
  readonly preflight?: {
    readonly passed: boolean;
    readonly forced: readonly ForcedFailure[];
    readonly checks: readonly string[];
    /** Gate warnings shown but not refusing (e.g. a cloud setting host-gw needs). */
    readonly warnings?: readonly ForcedFailure[];
  };
  readonly backup?: { readonly file?: string; readonly annotation: string };
  readonly nodes: readonly NodeResult[];
  /** Nodes that appeared in the API during the rollout (not in `nodes`: nothing was done to them). */
  readonly joined?: readonly JoinedNodeResult[];
  readonly verification?: {
    readonly passed: boolean;
    readonly failures: readonly string[];
    readonly unreachable: readonly string[];
    /** Nodes whose pods answered pings to their pod IPs. */
    readonly podLevel?: readonly string[];
    /** Nodes verified by annotation and routes only: no pods on them (so no cni0), or none reached. */
    readonly nodeLevel?: readonly string[];
  };
  readonly connectivity?: {
    readonly intervalMs: number;
    readonly rounds: number;
    readonly sent: number;
    readonly lost: number;
    readonly pairs: readonly PairLoss[];
    readonly errors: Readonly<Record<string, string>>;
    /** Nodes without pods: no pair toward them is watched. */
    readonly withoutPods?: readonly string[];
  };
  readonly cleanup?: {
    readonly done: boolean;
    readonly removed: readonly {
      readonly node: string;
      readonly devices: readonly string[];
      readonly error?: string;
    }[];
    readonly staleMtu: readonly StaleMtuNode[];
    readonly staleOwners: readonly StaleOwner[];
    readonly hint?: string;
  };
  readonly rollback?: {
    readonly reason: string;
    readonly restored: boolean;
    readonly verified: boolean;
    readonly failures: readonly string[];
  };
  /** Only with --dry-run: the plan and the exact requests that a real run sends. */
  readonly plan?: {
    readonly diff: string;
    readonly steps: readonly string[];
    readonly window: readonly { step: number; onTarget: number; onSource: number }[];
    readonly estimatedSeconds: number;
    readonly requests: readonly PlannedRequest[];
    readonly nodeCommands: readonly string[];
  };
  readonly state?: MigrationState;
}

const pad = (s: string, n: number) => s.padEnd(n);

export const renderResultText = (r: MigrationResult): string => {
  const lines: string[] = [r.message, ''];
  if (r.nodes.length > 0 && r.outcome !== 'planned') {
    lines.push('Per node:');
    const width = Math.max(...r.nodes.map((n) => n.node.length));
    for (const n of r.nodes) {
      const at = n.convertedAfterSeconds !== undefined ? `+${n.convertedAfterSeconds.toFixed(1)}s` : '-';
      lines.push(
        `  ${pad(n.node, width)}  ${pad(at, 7)} ${pad(n.backendType ?? '?', 8)} ${n.verification}${n.message ? `: ${n.message}` : ''}`,
      );
    }
    lines.push('');
  }
  if (r.joined?.length) {
    lines.push('Joined during the rollout:');
    for (const j of r.joined)
      lines.push(
        `  ${j.node}  +${j.seenAfterSeconds.toFixed(1)}s  ${j.backendType ?? '?'} ${j.verification}: ${j.message}`,
      );
    lines.push('');
  }
  if (r.verification && !r.verification.passed) {
    lines.push('Verification failed:', ...r.verification.failures.map((f) => `  ✗ ${f}`), '');
  }
  if (r.verification?.podLevel || r.verification?.nodeLevel)
    lines.push(
      `Verified at pod level (pod IPs pinged): ${r.verification.podLevel?.join(', ') || 'none'}; at node level (annotation, routes): ${r.verification.nodeLevel?.join(', ') || 'none'}`,
      '',
    );
  if (r.verification?.unreachable.length)
    lines.push(`Not verified (node unreachable over SSH): ${r.verification.unreachable.join(', ')}`, '');
  if (r.connectivity) {
    const c = r.connectivity;
    lines.push(
      `Connectivity while rolling (pod IP ping, every ${c.intervalMs / 1000}s, ${c.rounds} rounds): ${c.lost}/${c.sent} lost`,
    );
    for (const p of c.pairs)
      lines.push(
        `  ${p.from} -> ${p.to} (${p.pod ? `${p.pod} ` : ''}${p.target}): ${p.lost}/${p.sent} lost${p.unmeasured ? `, ${p.unmeasured} round(s) not measured` : ''}`,
      );
    if (c.withoutPods?.length) lines.push(`  not watched (no pods to ping): ${c.withoutPods.join(', ')}`);
    for (const [node, error] of Object.entries(c.errors)) lines.push(`  ! ${node}: ${error}`);
    lines.push('');
  }
  if (r.rollback) {
    lines.push(
      `Rolled back: ${r.rollback.reason}`,
      `  ConfigMap restored from the backup: ${r.rollback.restored ? 'yes' : 'no'}; verified after rollback: ${r.rollback.verified ? 'yes' : 'no'}`,
      ...r.rollback.failures.map((f) => `  ✗ ${f}`),
      '',
    );
  }
  if (r.cleanup) {
    const removed = r.cleanup.removed.filter((x) => x.devices.length > 0);
    if (r.cleanup.done)
      lines.push(
        `Cleanup: removed ${removed.map((x) => `${x.devices.join(',')} on ${x.node}`).join('; ') || 'nothing (no leftover device)'}`,
      );
    for (const x of r.cleanup.removed.filter((x) => x.error)) lines.push(`  ✗ ${x.node}: ${x.error}`);
    if (r.cleanup.hint) lines.push(r.cleanup.hint);
    const stale = r.cleanup.staleMtu.filter((n) => n.staleVeths.length > 0);
    if (stale.length > 0) {
      lines.push(`Pods still at the old MTU (veth on cni0 != FLANNEL_MTU):`);
      for (const n of stale)
        lines.push(
          `  ${n.node}: ${n.staleVeths.length} veth(s) at ${[...new Set(n.staleVeths.map((v) => v.mtu))].join('/')} (new pods get ${n.mtu}); cni0 MTU ${n.cni0Mtu} follows the smallest of them and changes by itself as they are recreated (do not set it by hand: that pins it)`,
        );
      for (const o of r.cleanup.staleOwners)
        lines.push(
          `  ${o.namespace}/${o.owner} (${o.pods.length} pod(s) on ${o.nodes.join(', ')}): ${o.command}`,
        );
      const mtus = stale.flatMap((n) => [n.mtu, ...n.staleVeths.map((v) => v.mtu)]);
      const smaller = Math.min(...mtus.filter((m): m is number => m !== null));
      if (Number.isFinite(smaller)) lines.push(`  ${mixedMtuEffect(smaller)}`);
      if (r.cleanup.staleOwners.length === 0)
        lines.push('  (the API lists no workload pod created before the switch on these nodes)');
    }
    lines.push('');
  }
  if (r.backup)
    lines.push(`Backup: ${r.backup.file ? `${r.backup.file} and ` : ''}annotation ${r.backup.annotation}`);
  if (r.preflight?.forced.length)
    lines.push(
      `Forced past: ${r.preflight.forced.map((f) => `${f.code}${f.node ? ` ${f.node}` : ''}`).join(', ')}`,
    );
  return `${lines.join('\n').trimEnd()}\n`;
};

export const writeMigrationResult = (result: MigrationResult, globals: GlobalOptions, io: Io): void => {
  if (globals.output === 'json') io.stdout.write(printJson(result));
  else if (globals.output === 'yaml') io.stdout.write(printYaml(result));
  else io.stdout.write(renderResultText(result));
};
