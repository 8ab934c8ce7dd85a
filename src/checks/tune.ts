// Throughput settings recommended for host-gw (no encapsulation, so the NIC and socket buffers are the
// limit): current vs recommended per node, informational only. TUNE_SETTINGS is also what
// `tune --apply` turns into `sysctl -w` commands and an /etc/sysctl.d/ file.
import type { Sysctls } from '../facts/node-facts.ts';
import { findingBuilder, sysctlKey, sysctlRemediation } from './finding.ts';
import { forEachProbedNode, sectionReason } from './per-node.ts';
import type { Check, Finding } from './types.ts';

const b = findingBuilder('tune');

export const TUNE_SYSCTL_FILE = '90-flannelctl-tune.conf';

export interface TuneSetting {
  readonly key: string;
  readonly recommended: number | string;
  /** at-least: larger current values are fine; bits: every recommended bit must be set; exact: equal. */
  readonly compare: 'at-least' | 'bits' | 'exact';
  readonly why: string;
  /** The current value on a node (null: unknown, 'missing': the kernel has no such key). */
  readonly current: (s: Sysctls) => number | string | 'missing' | null;
}

const BUFFER = 134217728;

export const TUNE_SETTINGS: readonly TuneSetting[] = [
  {
    key: 'net.core.rmem_max',
    recommended: BUFFER,
    compare: 'at-least',
    why: 'socket receive buffer ceiling for fast flows',
    current: (s) => s.rmemMax,
  },
  {
    key: 'net.core.wmem_max',
    recommended: BUFFER,
    compare: 'at-least',
    why: 'socket send buffer ceiling for fast flows',
    current: (s) => s.wmemMax,
  },
  {
    key: 'net.core.rmem_default',
    recommended: BUFFER,
    compare: 'at-least',
    why: 'default socket receive buffer',
    current: (s) => s.rmemDefault,
  },
  {
    key: 'net.core.wmem_default',
    recommended: BUFFER,
    compare: 'at-least',
    why: 'default socket send buffer',
    current: (s) => s.wmemDefault,
  },
  {
    key: 'net.ipv4.tcp_congestion_control',
    recommended: 'bbr',
    compare: 'exact',
    why: 'BBR keeps throughput up under loss (only when the kernel offers it)',
    current: (s) => s.tcpCongestionControl,
  },
  {
    key: 'net.netfilter.nf_conntrack_max',
    recommended: 1000000,
    compare: 'at-least',
    why: 'room for many pod connections',
    current: (s) => s.conntrackMax,
  },
  {
    key: 'net.ipv4.tcp_fastopen',
    recommended: 3,
    compare: 'bits',
    why: 'TCP Fast Open for clients and servers',
    current: (s) => s.tcpFastopen,
  },
  {
    key: 'net.ipv4.route.max_size',
    recommended: 1048576,
    compare: 'at-least',
    why: 'route cache size for many peers (absent on newer kernels)',
    current: (s) => s.routeMaxSize,
  },
];

export interface TuneChange {
  readonly key: string;
  readonly current: number | string | null;
  readonly recommended: number | string;
}

/** The settings a node should change: unknown or absent keys and an unavailable bbr are left out. */
export const tuneChanges = (s: Sysctls): TuneChange[] =>
  TUNE_SETTINGS.flatMap((t): TuneChange[] => {
    const current = t.current(s);
    if (current === 'missing') return [];
    if (t.recommended === 'bbr') {
      const available = s.tcpAvailableCongestionControl;
      if (!Array.isArray(available) || !available.includes('bbr')) return [];
    }
    if (current !== null) {
      if (t.compare === 'at-least' && typeof current === 'number' && current >= (t.recommended as number))
        return [];
      if (
        t.compare === 'bits' &&
        typeof current === 'number' &&
        (current & (t.recommended as number)) === t.recommended
      )
        return [];
      if (t.compare === 'exact' && current === t.recommended) return [];
    }
    return [{ key: t.key, current, recommended: t.recommended }];
  });

/** `sysctl -w k=v ...` for `tune --apply`. */
export const tuneSysctlCommand = (changes: readonly TuneChange[]): string =>
  `sysctl -w ${changes.map((c) => `${sysctlKey(c.key)}=${c.recommended}`).join(' ')}`;

/** The /etc/sysctl.d/ file content that persists the changes. */
export const tuneSysctlFile = (changes: readonly TuneChange[]): string =>
  `# Written by flannelctl tune: host-gw throughput settings\n${changes.map((c) => `${sysctlKey(c.key)} = ${c.recommended}`).join('\n')}\n`;

export const tuneCheck: Check = {
  id: 'tune',
  title: 'Throughput tuning',
  description:
    'Recommended host-gw throughput sysctls (socket buffers, bbr, conntrack, TCP Fast Open, route cache): current vs recommended',
  needs: ['nodes'],
  evaluate(facts) {
    return forEachProbedNode(facts, b, (view, nodeFacts): Finding[] => {
      const s = nodeFacts.sysctls;
      if (!s) return [b.skipped(sectionReason(nodeFacts, 'sysctls', ['sysctl']), view.name)];
      const changes = tuneChanges(s);
      if (changes.length === 0) {
        return [
          b.pass({
            node: view.name,
            message: `${view.name} already uses the recommended throughput settings`,
          }),
        ];
      }
      return [
        b('recommendation', 'info', {
          node: view.name,
          message: `${changes.length} throughput setting${changes.length === 1 ? '' : 's'} on ${view.name} differ from the recommendation`,
          evidence: changes.map((c) => `${c.key} = ${c.current ?? 'unknown'} (recommended ${c.recommended})`),
          remediation: `${sysctlRemediation(
            changes.map((c) => [c.key, c.recommended] as const),
            TUNE_SYSCTL_FILE,
          )}  # on ${view.name}, or: flannelctl tune --apply`,
        }),
      ];
    });
  },
};
