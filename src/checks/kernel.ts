// Kernel settings flannel relies on but never sets: ip_forward (the bridge plugin only enables it on
// the first pod), br_netfilter (flanneld exits without it unless nftables mode is on), a FORWARD chain
// that lets pod traffic through (Docker sets policy DROP; flannel appends FLANNEL-FWD, so earlier
// DROP/REJECT rules still win), and conntrack headroom.
// In nftables mode (EnableNFTables) flanneld accepts the Network in its own table instead (flannel
// pkg/trafficmngr/nftables/nftables.go: table ip flannel-ipv4, chain forward, hook forward, priority
// filter). An accept ends only that base chain: a DROP policy or rule in the iptables FORWARD chain
// (iptables-nft's table ip filter) still drops the packet, so the accept must be added there.
import { findingBuilder, sysctlRemediation } from './finding.ts';
import { forEachProbedNode, sectionReason } from './per-node.ts';
import { cidrArg, comment, sh, type Shell } from './shell-command.ts';
import { netConfOf } from './topology.ts';
import type { Check, Finding } from './types.ts';

const b = findingBuilder('kernel');

/** flanneld's own nftables table in nftables mode (pkg/trafficmngr/nftables: ipv4Table). */
export const FLANNEL_NFT_TABLE = 'ip flannel-ipv4';

/** `iptables -S` ACCEPT rules for the pod Network, both ways, as iptables-nft prints nft's too. */
const acceptsNetwork = (rules: readonly string[], network: string): boolean =>
  ['-s', '-d'].every((dir) =>
    rules.some(
      (r) => r.startsWith('-A FORWARD ') && r.includes(` ${dir} ${network} `) && /-j ACCEPT\b/.test(r),
    ),
  );

/**
 * nftables mode's fix: accept rules for the pod Network at the top of the FORWARD chain. With iptables-nft
 * that chain is the nftables chain `ip filter FORWARD`, so the fix is an nft command (iptables -S then
 * shows it as `-A FORWARD -s <net> -j ACCEPT`); legacy iptables is not nftables, so only iptables can.
 */
const insertAcceptRemediation = (network: Shell, iptablesVersion: string | null): Shell =>
  /nf_tables/.test(iptablesVersion ?? '')
    ? sh`nft insert rule ip filter FORWARD ip daddr ${network} accept && nft insert rule ip filter FORWARD ip saddr ${network} accept`
    : sh`iptables -I FORWARD 1 -s ${network} -j ACCEPT && iptables -I FORWARD 1 -d ${network} -j ACCEPT`;

/** Conntrack use above this share of nf_conntrack_max warns: new connections are dropped at 100%. */
export const CONNTRACK_WARN_RATIO = 0.8;

export const kernelCheck: Check = {
  id: 'kernel',
  title: 'Kernel forwarding',
  description:
    'ip_forward=1, br_netfilter loaded with bridge-nf-call-iptables=1, an iptables FORWARD chain that accepts pod traffic (FLANNEL-FWD), and conntrack below 80% of its maximum',
  needs: ['nodes'],
  evaluate(facts) {
    const conf = netConfOf(facts);
    const nftables = conf?.EnableNFTables === true;
    const network = conf?.Network ?? '<Network>';
    // net-conf.json is ConfigMap text anyone with write access sets: a Network that is not a CIDR
    // gets no firewall command (config/net-conf-invalid reports it).
    const networkWord: Shell | null = conf?.Network ? cidrArg(conf.Network) : sh`<Network>`;
    return forEachProbedNode(facts, b, (view, nodeFacts) => {
      const s = nodeFacts.sysctls;
      if (!s) return [b.skipped(sectionReason(nodeFacts, 'sysctls', ['sysctl']), view.name)];
      const node = view.name;
      const out: Finding[] = [];
      const on = sh`  # on ${comment(node)}`;
      if (typeof s.ipForward === 'number' && s.ipForward !== 1) {
        out.push(
          b('ip-forward-off', 'fail', {
            node,
            message: `IP forwarding is off on ${node}: it cannot route pod traffic between its pods and other nodes`,
            evidence: [`net.ipv4.ip_forward = ${s.ipForward}`],
            remediation: sh`${sysctlRemediation([['net.ipv4.ip_forward', 1]], '90-flannelctl-forward.conf')}${on}`,
          }),
        );
      }
      if (s.bridgeNfCallIptables === 'missing' && !nftables) {
        out.push(
          b('br-netfilter-missing', 'fail', {
            node,
            message: `br_netfilter is not loaded on ${node}: flanneld exits with "Failed to check br_netfilter" and bridged pod traffic bypasses iptables`,
            evidence: ['/proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory'],
            remediation: sh`modprobe br_netfilter && echo br_netfilter > /etc/modules-load.d/br_netfilter.conf${on}`,
          }),
        );
      } else if (s.bridgeNfCallIptables === 0) {
        out.push(
          b('bridge-nf-call-iptables-off', 'warn', {
            node,
            message: `bridge-nf-call-iptables is 0 on ${node}: traffic between pods on cni0 bypasses iptables (Services and NetworkPolicy break)`,
            evidence: ['net.bridge.bridge-nf-call-iptables = 0'],
            remediation: sh`${sysctlRemediation([['net.bridge.bridge-nf-call-iptables', 1]], '90-flannelctl-bridge.conf')}${on}`,
          }),
        );
      }
      const ipt = nodeFacts.iptables;
      if (ipt && ipt !== 'not-installed' && ipt.forwardPolicy) {
        const flannelIdx = ipt.forwardRules.findIndex((r) => /-j FLANNEL-FWD\b/.test(r));
        const blocking = ipt.forwardRules.findIndex(
          (r) => /-j (DROP|REJECT)\b/.test(r) && !/FLANNEL/.test(r),
        );
        const policyLine = `-P FORWARD ${ipt.forwardPolicy}`;
        const nftTables = Array.isArray(nodeFacts.nftTables) ? nodeFacts.nftTables : null;
        const flannelTable = nftTables
          ? `nft list tables: ${FLANNEL_NFT_TABLE} ${nftTables.includes(FLANNEL_NFT_TABLE) ? 'present' : 'absent'}`
          : null;
        const fix = networkWord ? sh`${insertAcceptRemediation(networkWord, ipt.version)}${on}` : undefined;
        if (nftables) {
          if (ipt.forwardPolicy === 'DROP' && !acceptsNetwork(ipt.forwardRules, network)) {
            out.push(
              b('forward-drop', 'fail', {
                node,
                message: `The iptables FORWARD policy on ${node} is DROP: forwarded pod traffic is dropped there, and flannel's nftables accept rules (${FLANNEL_NFT_TABLE}, chain forward) cannot override another chain's drop`,
                evidence: [
                  `iptables ${ipt.version ?? '(version unknown)'}`,
                  policyLine,
                  ...ipt.forwardRules.slice(0, 10),
                  ...(flannelTable ? [flannelTable] : []),
                ],
                remediation: fix,
              }),
            );
          } else if (blocking >= 0 && !acceptsNetwork(ipt.forwardRules.slice(0, blocking), network)) {
            out.push(
              b('forward-reject-before-flannel', 'warn', {
                node,
                message: `A DROP/REJECT rule in the iptables FORWARD chain on ${node} may drop pod traffic: flannel's nftables accept rules (${FLANNEL_NFT_TABLE}) cannot override it`,
                evidence: [policyLine, ...ipt.forwardRules.slice(0, blocking + 1)],
                remediation: fix && sh`${fix}; or allow the pod CIDR in firewalld/ufw`,
              }),
            );
          }
        } else if (ipt.forwardPolicy === 'DROP' && flannelIdx < 0) {
          out.push(
            b('forward-drop', 'fail', {
              node,
              message: `The iptables FORWARD policy on ${node} is DROP and flannel's FLANNEL-FWD accept rules are absent: forwarded pod traffic is dropped`,
              evidence: [policyLine, ...ipt.forwardRules.slice(0, 10)],
              remediation:
                networkWord &&
                sh`iptables -A FORWARD -s ${networkWord} -j ACCEPT && iptables -A FORWARD -d ${networkWord} -j ACCEPT${on}; or restart flanneld, which adds FLANNEL-FWD`,
            }),
          );
        } else if (blocking >= 0 && (flannelIdx < 0 || blocking < flannelIdx)) {
          out.push(
            b('forward-reject-before-flannel', 'warn', {
              node,
              message: `A DROP/REJECT rule precedes flannel's accept rules in the FORWARD chain on ${node} (flannel appends FLANNEL-FWD at the end)`,
              evidence: [policyLine, ...ipt.forwardRules.slice(0, Math.max(blocking, flannelIdx) + 1)],
              remediation:
                networkWord &&
                sh`iptables -I FORWARD 1 -s ${networkWord} -j ACCEPT && iptables -I FORWARD 1 -d ${networkWord} -j ACCEPT${on}; or allow the pod CIDR in firewalld/ufw`,
            }),
          );
        }
      }
      if (typeof s.conntrackCount === 'number' && typeof s.conntrackMax === 'number' && s.conntrackMax > 0) {
        const ratio = s.conntrackCount / s.conntrackMax;
        if (ratio > CONNTRACK_WARN_RATIO) {
          out.push(
            b('conntrack-near-full', 'warn', {
              node,
              message: `The conntrack table on ${node} is ${Math.round(ratio * 100)}% full: new connections are dropped when it fills`,
              evidence: [
                `net.netfilter.nf_conntrack_count = ${s.conntrackCount}`,
                `net.netfilter.nf_conntrack_max = ${s.conntrackMax}`,
              ],
              remediation: sh`${sysctlRemediation(
                [['net.netfilter.nf_conntrack_max', Math.max(1000000, s.conntrackMax * 2)]],
                '90-flannelctl-conntrack.conf',
              )}${on}`,
            }),
          );
        }
      }
      if (out.length === 0) {
        out.push(
          b.pass({
            node,
            message: `Forwarding prerequisites hold on ${node}`,
            evidence: [
              `net.ipv4.ip_forward = ${s.ipForward ?? 'unknown'}`,
              `net.bridge.bridge-nf-call-iptables = ${s.bridgeNfCallIptables ?? 'unknown'}`,
              ...(ipt && ipt !== 'not-installed' && ipt.forwardPolicy
                ? [`-P FORWARD ${ipt.forwardPolicy}`]
                : []),
            ],
          }),
        );
      }
      return out;
    });
  },
};
