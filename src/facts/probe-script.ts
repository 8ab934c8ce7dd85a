// The one-round-trip node probe: a POSIX sh script (dash, bash, BusyBox ash) that prints every
// section between nonce markers together with its exit code. It is sent on stdin to `sh -s` over SSH
// or run in the flannel pod, so it relies on no login shell, profile or bashism.
import { assertInterfaceName, assertIpLiteral, assertNonce, assertProbePath } from './probe-input.ts';

export interface ProbeScriptOptions {
  /** Random hex chosen per run (see newProbeNonce). */
  readonly nonce: string;
  /** Peer node IPs: `ip route get` is run for each (flannel's own L2 test). */
  readonly peers: readonly string[];
  /**
   * VXLAN devices whose forwarding database is dumped when they exist. Default: flannel.1, plus
   * flannel-v6.1 (dual-stack vxlan's IPv6 device) when a peer is IPv6: no extra process otherwise.
   */
  readonly interfaces?: readonly string[];
  /** Default /run/flannel/subnet.env; the fixture recorder points it at a temp file. */
  readonly subnetEnvPath?: string;
  /** Default /etc/cni/net.d. */
  readonly cniConfDir?: string;
}

export const DEFAULT_SUBNET_ENV_PATH = '/run/flannel/subnet.env';
export const DEFAULT_CNI_CONF_DIR = '/etc/cni/net.d';
export const DEFAULT_FDB_INTERFACES: readonly string[] = ['flannel.1'];
export const DEFAULT_FDB_INTERFACES_V6: readonly string[] = ['flannel-v6.1'];

/**
 * The one section of a node's `ip route get`s, in the form it answers in; each peer's output is marked
 * inside it (see `g`) and parsed as `route-get-json/<peer>` or `route-get-text/<peer>`.
 */
export const ROUTE_GET_JSON = 'route-get-json';
export const ROUTE_GET_TEXT = 'route-get-text';

/** Scalar sysctls read by name (path under /proc/sys); rp_filter is read for every interface. */
export const PROBE_SYSCTLS: readonly string[] = [
  'net/ipv4/ip_forward',
  'net/bridge/bridge-nf-call-iptables',
  'net/netfilter/nf_conntrack_count',
  'net/netfilter/nf_conntrack_max',
  'net/core/rmem_max',
  'net/core/wmem_max',
  'net/core/rmem_default',
  'net/core/wmem_default',
  'net/ipv4/tcp_congestion_control',
  'net/ipv4/tcp_available_congestion_control',
  'net/ipv4/tcp_fastopen',
  'net/ipv4/route/max_size',
];

// Helpers, kept short because the script is sent to every node:
//  s NAME CMD...  run CMD with stdin from /dev/null (stdin is the script itself) and mark its output
//  d ARGS...      `ip -d ARGS`, or plain `ip ARGS` where -d is unknown (BusyBox)
//  p CMD...       run CMD, or exit 127 with a fixed message when it is not installed
//  c FILE         cat FILE, or exit 66 when it does not exist
//  l DIR          list DIR's entries one per line, or exit 66 when it does not exist
//  x              sysctls as PATH:value (grep -H; one process, and dash's byte-wise `read`
//                 truncates /proc/sys values) plus PATH!missing for absent files (module not loaded)
//                 and PATH!readonly for files root cannot write (global keys in a container's netns)
//  g PEER...      `ip route get PEER` per peer, in the one form this node's ip answers in: JSON where
//                 `ip -j route get` prints JSON (iproute2 >= 5.0), else text (older, BusyBox). Asking
//                 for both doubled the probe's processes and output (999 peers at 1,000 nodes). All
//                 peers share one section (run by s); each peer's output sits between
//                 `@@N GET PEER` and `@@N GOT PEER EXIT` lines, so the parser splits one section
//                 per node instead of a million sections at 1,000 nodes.
//  q              `ip -n NS -j addr show` for each named netns that `ip netns list` shows with an id here
//                 ("NS (id: N)": a veth on this node has its peer there, i.e. a pod), each between
//                 `@@N GET NS` and `@@N GOT NS EXIT` lines like g; ties cni0's veths to pod IPs and MTUs.
const PRELUDE = `LC_ALL=C; export LC_ALL
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin; export PATH
s() { n=$1; shift; printf '\\n@@%s BEGIN %s\\n' "$N" "$n"; "$@" </dev/null 2>&1; r=$?; printf '\\n@@%s END %s %s\\n' "$N" "$n" "$r"; }
d() { ip -d "$@" 2>/dev/null || ip "$@"; }
p() { command -v "$1" >/dev/null 2>&1 || { echo "$1: not installed"; return 127; }; "$@"; }
c() { [ -e "$1" ] || { echo "$1: not found"; return 66; }; cat "$1"; }
l() { [ -d "$1" ] || { echo "$1: not found"; return 66; }; for e in "$1"/*; do [ -e "$e" ] && echo "\${e##*/}"; done; return 0; }
g() { for a; do printf '@@%s GET %s\\n' "$N" "$a"; ip $J route get "$a"; printf '\\n@@%s GOT %s %s\\n' "$N" "$a" "$?"; done; }
q() { ip netns list 2>/dev/null | while read -r a b; do case $b in *'(id:'*) printf '@@%s GET %s\\n' "$N" "$a"; ip -n "$a" -j addr show; printf '\\n@@%s GOT %s %s\\n' "$N" "$a" "$?";; esac; done; }
x() ( cd /proc/sys || exit; for q in ${PROBE_SYSCTLS.join(' ')}; do if [ -e "$q" ]; then [ -w "$q" ] || echo "$q!readonly"; else echo "$q!missing"; fi; done; grep -H '' ${PROBE_SYSCTLS.join(' ')} net/ipv4/conf/*/rp_filter )
`;

/** Builds the probe script; throws UsageError on any value that does not match its strict grammar. */
export const buildProbeScript = (options: ProbeScriptOptions): string => {
  const nonce = assertNonce(options.nonce);
  const peers = [...new Set(options.peers.map((peer) => assertIpLiteral(peer)))];
  const defaultInterfaces = peers.some((peer) => peer.includes(':'))
    ? [...DEFAULT_FDB_INTERFACES, ...DEFAULT_FDB_INTERFACES_V6]
    : DEFAULT_FDB_INTERFACES;
  const interfaces = [...new Set((options.interfaces ?? defaultInterfaces).map(assertInterfaceName))];
  const subnetEnv = assertProbePath(options.subnetEnvPath ?? DEFAULT_SUBNET_ENV_PATH);
  const cniDir = assertProbePath(options.cniConfDir ?? DEFAULT_CNI_CONF_DIR);

  const lines = [
    `# flannelctl node probe`,
    `N=${nonce}`,
    PRELUDE,
    's ip-version ip -V',
    's addr-json ip -j -d addr show',
    's link-json ip -j -d link show',
    's route-json ip -j -d route show table main',
    's route6-json ip -j -6 -d route show table main',
    's neigh-json ip -j neigh show',
    's addr-text d addr show',
    's link-text d link show',
    's route-text d route show table main',
    's neigh-text ip neigh show',
    ...(peers.length > 0
      ? [
          // 127.0.0.1 always has a route (the local table), so this tells JSON support from failure.
          `case $(ip -j route get 127.0.0.1 </dev/null 2>/dev/null) in '['*) J=-j G=${ROUTE_GET_JSON};; *) J= G=${ROUTE_GET_TEXT};; esac`,
          `s $G g ${peers.join(' ')}`,
        ]
      : []),
    ...interfaces.map(
      (dev) =>
        `if ip link show dev ${dev} >/dev/null 2>&1; then s fdb-json/${dev} p bridge -j fdb show dev ${dev}; s fdb-text/${dev} p bridge fdb show dev ${dev}; fi`,
    ),
    's pod-netns q',
    's sysctl x',
    `s subnet-env c '${subnetEnv}'`,
    's snmp cat /proc/net/snmp',
    `s cni-conf l '${cniDir}'`,
    's iptables-version p iptables -V',
    's iptables-forward p iptables -S FORWARD',
    's nft-tables p nft list tables',
    's kernel uname -r',
    's hostname cat /proc/sys/kernel/hostname',
    's uid id -u',
    '',
  ];
  return lines.join('\n');
};
