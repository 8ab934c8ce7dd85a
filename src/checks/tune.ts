// The throughput settings a widely copied host-gw tuning guide sets, each with the guide's value and
// our verdict on it for nodes on one L2 segment: recommended (what `tune --apply` sets), not
// recommended (set only when named with --against-advice) or informational (another component owns
// it; tune never sets it). The reasons were checked against the kernel (6.18, network namespaces
// compared) and upstream code; the file named in each comment holds the rule.
import type { Sysctls } from '../facts/node-facts.ts';
import { findingBuilder, listSome, sysctlRemediation } from './finding.ts';
import { forEachProbedNode, sectionReason } from './per-node.ts';
import { comment, sh } from './shell-command.ts';
import { nodeViews } from './topology.ts';
import type { Check, Finding } from './types.ts';

const b = findingBuilder('tune');

export const TUNE_SYSCTL_FILE = '90-flannelctl-tune.conf';
/** Settings applied with --against-advice get their own drop-in, so either run keeps the other's. */
export const TUNE_AGAINST_ADVICE_FILE = '90-flannelctl-tune-against-advice.conf';

export type TuneVerdict = 'recommended' | 'not-recommended' | 'informational';

export interface TuneSetting {
  readonly key: string;
  /** The guide's value (what --apply sets when the verdict allows it). */
  readonly guide: number | string;
  readonly verdict: TuneVerdict;
  /**
   * global: one value for the node and all its pods, writable only from the host's network namespace
   * (read-only in a container's or lab node's); netns: every network namespace has its own.
   */
  readonly scope: 'global' | 'netns';
  readonly reason: string;
  /** at-least: larger current values are fine; bits: every guide bit must be set; exact: equal. */
  readonly compare: 'at-least' | 'bits' | 'exact';
  /** The current value on a node (null: unknown, 'missing': the kernel has no such key). */
  readonly current: (s: Sysctls) => number | string | 'missing' | null;
}

const BUFFER = 134217728; // 128 MiB, the guide's value for all four socket buffer settings

const ceiling = (dir: 'receive' | 'send', opt: string, tcp: string): string =>
  `The ceiling for a ${dir} buffer a socket asks for itself (${opt}: iperf3 -w, UDP and QUIC servers); ` +
  `it costs nothing until one asks. TCP autotuning ignores it (${tcp} bounds it), and on one L2 segment ` +
  'the bandwidth-delay product is far below 1 MB, so TCP needs no change.';

const startingBuffer = (dir: 'receive' | 'send', tcp: string): string =>
  `Global, not per network namespace: the starting ${dir} buffer of every UDP, unix and netlink socket ` +
  'on the node and in every pod; at 128 MiB one slow consumer pins 128 MiB of kernel memory. TCP ' +
  `ignores it (it starts from ${tcp}).`;

export const TUNE_SETTINGS: readonly TuneSetting[] = [
  // net/core/sysctl_net_core.c: rmem_max/wmem_max cap SO_RCVBUF/SO_SNDBUF (net/core/sock.c
  // sk_setsockopt); TCP sizes its buffers from tcp_rmem/tcp_wmem (net/ipv4/tcp_input.c tcp_rcv_space_adjust).
  {
    key: 'net.core.rmem_max',
    guide: BUFFER,
    verdict: 'recommended',
    scope: 'global',
    reason: ceiling('receive', 'SO_RCVBUF', 'net.ipv4.tcp_rmem'),
    compare: 'at-least',
    current: (s) => s.rmemMax,
  },
  {
    key: 'net.core.wmem_max',
    guide: BUFFER,
    verdict: 'recommended',
    scope: 'global',
    reason: ceiling('send', 'SO_SNDBUF', 'net.ipv4.tcp_wmem'),
    compare: 'at-least',
    current: (s) => s.wmemMax,
  },
  // net/core/sock.c sock_init_data: sk_rcvbuf/sk_sndbuf = sysctl_rmem_default/wmem_default; read-only
  // in every network namespace but the host's (checked on the kernel).
  {
    key: 'net.core.rmem_default',
    guide: BUFFER,
    verdict: 'not-recommended',
    scope: 'global',
    reason: startingBuffer('receive', 'net.ipv4.tcp_rmem'),
    compare: 'at-least',
    current: (s) => s.rmemDefault,
  },
  {
    key: 'net.core.wmem_default',
    guide: BUFFER,
    verdict: 'not-recommended',
    scope: 'global',
    reason: startingBuffer('send', 'net.ipv4.tcp_wmem'),
    compare: 'at-least',
    current: (s) => s.wmemDefault,
  },
  // net/ipv4/tcp_ipv4.c tcp_sk_init: a new netns copies init_net's congestion control.
  {
    key: 'net.ipv4.tcp_congestion_control',
    guide: 'bbr',
    verdict: 'not-recommended',
    scope: 'netns',
    reason:
      'At LAN round-trip times bbr gains nothing over cubic, and it can take more than its share from ' +
      "cubic flows. Per network namespace: a pod's namespace copies the host's value when the pod is created; " +
      'running pods keep theirs. Set only where the kernel offers bbr.',
    compare: 'exact',
    current: (s) => s.tcpCongestionControl,
  },
  // cmd/kube-proxy/app/conntrack.go (kubernetes): setIntSysCtl raises nf_conntrack_max to
  // conntrack.maxPerCore x CPUs (at least conntrack.min) at start; read-only outside init_net.
  {
    key: 'net.netfilter.nf_conntrack_max',
    guide: 1000000,
    verdict: 'informational',
    scope: 'global',
    reason:
      "Managed by kube-proxy: at start it raises it to conntrack.maxPerCore x CPUs (at least conntrack.min) when it is lower. Change kube-proxy's configuration so one owner decides it.",
    compare: 'at-least',
    current: (s) => s.conntrackMax,
  },
  // net/ipv4/tcp_ipv4.c tcp_sk_init: every new netns starts with TFO_CLIENT_ENABLE (1), not the host's.
  {
    key: 'net.ipv4.tcp_fastopen',
    guide: 3,
    verdict: 'not-recommended',
    scope: 'netns',
    reason:
      'Per network namespace and never inherited: every new pod starts at 1 (client only) whatever the node has, so this reaches only host-network sockets, and only applications that use TCP_FASTOPEN. A pod that needs it sets it in its own namespace (securityContext.sysctls, an unsafe sysctl the kubelet must allow).',
    compare: 'bits',
    current: (s) => s.tcpFastopen,
  },
  // Documentation/networking/ip-sysctl.rst (route/max_size): deprecated for IPv4 since 3.6, no route cache.
  {
    key: 'net.ipv4.route.max_size',
    guide: 1048576,
    verdict: 'not-recommended',
    scope: 'global',
    reason:
      "No effect for IPv4 since Linux 3.6, which removed the route cache (the key only exists in the host's network namespace).",
    compare: 'at-least',
    current: (s) => s.routeMaxSize,
  },
];

export const tuneSetting = (key: string): TuneSetting | undefined => TUNE_SETTINGS.find((t) => t.key === key);

export const RECOMMENDED_TUNE_SETTINGS = TUNE_SETTINGS.filter((t) => t.verdict === 'recommended');

export interface TuneChange {
  readonly key: string;
  readonly current: number | string | null;
  /** The guide's value, set by the change. */
  readonly value: number | string;
}

const bbrOffered = (s: Sysctls): boolean =>
  Array.isArray(s.tcpAvailableCongestionControl) && s.tcpAvailableCongestionControl.includes('bbr');

/** Whether the node's value already satisfies the guide's (null: unknown). */
const satisfies = (t: TuneSetting, current: number | string | null): boolean => {
  if (current === null) return false;
  if (t.compare === 'at-least') return typeof current === 'number' && current >= (t.guide as number);
  if (t.compare === 'bits') return typeof current === 'number' && (current & (t.guide as number)) === t.guide;
  return current === t.guide;
};

/** The probe marks keys the node cannot write (global keys seen from a container's netns). */
export const isReadOnly = (s: Sysctls, key: string): boolean => s.readOnly?.includes(key) ?? false;

/**
 * What setting `settings` (the recommended ones unless named) to the guide's value changes on a node:
 * keys the kernel lacks, read-only keys and bbr where the kernel does not offer it are left out.
 */
export const tuneChanges = (s: Sysctls, settings: readonly TuneSetting[] = RECOMMENDED_TUNE_SETTINGS) =>
  differing(s, settings).filter((c) => !isReadOnly(s, c.key));

/** What a node would need of `settings` but cannot set itself (read-only in its network namespace). */
export const tuneReadOnlyChanges = (
  s: Sysctls,
  settings: readonly TuneSetting[] = RECOMMENDED_TUNE_SETTINGS,
) => differing(s, settings).filter((c) => isReadOnly(s, c.key));

const differing = (s: Sysctls, settings: readonly TuneSetting[]): TuneChange[] =>
  settings.flatMap((t): TuneChange[] => {
    const current = t.current(s);
    if (current === 'missing' || satisfies(t, current)) return [];
    if (t.guide === 'bbr' && !bbrOffered(s)) return [];
    return [{ key: t.key, current, value: t.guide }];
  });

const show = (value: number | string | null): string => (value === null ? 'unknown' : String(value));

const changeLines = (changes: readonly TuneChange[]): string[] =>
  changes.map((c) => `${c.key} = ${show(c.current)} (recommended ${c.value})`);

/** rmem_default/wmem_default at the guide's value or more: every socket starts that large. */
const largeDefaultBuffers = (s: Sysctls): string[] =>
  TUNE_SETTINGS.filter((t) => t.key === 'net.core.rmem_default' || t.key === 'net.core.wmem_default').flatMap(
    (t) => {
      const current = t.current(s);
      return typeof current === 'number' && current >= (t.guide as number) ? [`${t.key} = ${current}`] : [];
    },
  );

const evaluateNode = (name: string, s: Sysctls): Finding[] => {
  const findings: Finding[] = [];
  const all = differing(s, RECOMMENDED_TUNE_SETTINGS);
  const changes = all.filter((c) => !isReadOnly(s, c.key));
  const hostOnly = all.filter((c) => isReadOnly(s, c.key));
  if (changes.length > 0) {
    findings.push(
      b('recommendation', 'info', {
        node: name,
        message: `${changes.length} recommended throughput setting${changes.length === 1 ? '' : 's'} on ${name} differ${changes.length === 1 ? 's' : ''}: flannelctl tune --apply sets ${changes.length === 1 ? 'it' : 'them'}`,
        evidence: changeLines(changes),
        remediation: sh`${sysctlRemediation(
          changes.map((c) => [c.key, c.value] as const),
          TUNE_SYSCTL_FILE,
        )}  # on ${comment(name)}, or: flannelctl tune --apply`,
      }),
    );
  }
  if (hostOnly.length > 0) {
    findings.push(
      b('host-only', 'info', {
        node: name,
        message: `${listSome(hostOnly.map((c) => c.key))} differ${hostOnly.length === 1 ? 's' : ''} on ${name} but ${hostOnly.length === 1 ? 'is' : 'are'} read-only in its network namespace (a container or lab node): only the host can set ${hostOnly.length === 1 ? 'it' : 'them'}`,
        evidence: changeLines(hostOnly),
      }),
    );
  }
  const large = largeDefaultBuffers(s);
  if (large.length > 0) {
    findings.push(
      b('large-default-buffers', 'warn', {
        node: name,
        message: `Every UDP, unix and netlink socket on ${name} and in its pods starts with a buffer this large: one slow consumer pins that much kernel memory, and TCP does not use it`,
        evidence: large,
        remediation: sh`sysctl -w net.core.rmem_default=212992 net.core.wmem_default=212992  # on ${comment(name)} (the usual kernel default), and drop the lines that set them from /etc/sysctl.d/`,
      }),
    );
  }
  if (findings.length === 0) {
    findings.push(
      b.pass({ node: name, message: `${name} already uses the recommended throughput settings` }),
    );
  }
  return findings;
};

export const tuneCheck: Check = {
  id: 'tune',
  title: 'Throughput tuning',
  description:
    'Throughput sysctls from the host-gw tuning guide: the recommended ones (socket buffer ceilings) current vs recommended, and socket default buffers set as large as the guide says',
  needs: ['nodes'],
  evaluate(facts) {
    return forEachProbedNode(facts, b, (view, nodeFacts): Finding[] => {
      const s = nodeFacts.sysctls;
      if (!s) return [b.skipped(sectionReason(nodeFacts, 'sysctls', ['sysctl']), view.name)];
      return evaluateNode(view.name, s);
    });
  },
};

/** One setting in a TuneReport: the advice, and the values the nodes have (nodes sharing one are grouped). */
export interface TuneSettingReport {
  readonly key: string;
  readonly guide: number | string;
  readonly verdict: TuneVerdict;
  readonly scope: 'global' | 'netns';
  readonly reason: string;
  readonly values: ReadonlyArray<{
    readonly current: number | string | null;
    readonly nodes: readonly string[];
  }>;
}

export const tuneSettingsReport = (facts: Parameters<typeof nodeViews>[0]): TuneSettingReport[] => {
  const views = nodeViews(facts).filter((v) => v.facts?.sysctls);
  return TUNE_SETTINGS.map((t) => {
    const groups = new Map<string, { current: number | string | null; nodes: string[] }>();
    for (const view of views) {
      const current = t.current(view.facts!.sysctls!);
      const id = JSON.stringify(current);
      const group = groups.get(id) ?? { current, nodes: [] };
      group.nodes.push(view.name);
      groups.set(id, group);
    }
    const { key, guide, verdict, scope, reason } = t;
    return { key, guide, verdict, scope, reason, values: [...groups.values()] };
  });
};
