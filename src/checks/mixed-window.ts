// Strict rp_filter during a backend switch. The DaemonSet restarts node by node, and a pair's routes
// change one end at a time: a node that has converted to host-gw replaces its `via <subnet>.0 dev
// flannel.1 onlink` route to a converted peer with `via <peer IP> dev eth0` when it sees the peer's
// new lease ("Replacing existing route", flannel pkg/backend/route_network.go routeAdd), while the
// peer may still route back through flannel.1. Until both ends have replaced the route, packets arrive
// on eth0 whose reverse route leaves via flannel.1 (and, the other way, on flannel.1 with the reverse
// route via eth0): strict mode (effective rp_filter 1 = max(all, iface)) drops them, loose (2) does
// not (proven on the kernel by test/lab/mixed-window-lab.test.ts). The window per pair is short when
// both flanneld run, but lasts while one end crash-loops or lags, so a switch needs loose mode first.
import type { ClusterFacts } from '../facts/cluster-facts.ts';
import { findingBuilder, listSome, sysctlRemediation } from './finding.ts';
import { forEachProbedNode, sectionReason } from './per-node.ts';
import { comment, nameArg, sh } from './shell-command.ts';
import { looseRpFilterSettings, rpFilterInterfaces, RP_FILTER_SYSCTL_FILE } from './rp-filter.ts';
import { netConfOf, uplinkOf, vxlanDeviceName } from './topology.ts';
import type { Check } from './types.ts';

const b = findingBuilder('mixed-window');

/** Backends whose switch leaves pairs routed one way directly and the other way through flannel.N. */
const ROUTED = new Set(['host-gw', 'vxlan']);

/** The backends nodes run now that differ from the expected one (empty: no switch pending). */
export const pendingSwitch = (facts: ClusterFacts): { from: string[]; to: string } | null => {
  const to = facts.expectedBackend.value;
  if (!to || !ROUTED.has(to) || !facts.api) return null;
  const running = new Set<string>();
  const configured = netConfOf(facts)?.Backend.Type;
  if (configured && configured !== to) running.add(configured);
  for (const n of facts.api.nodes)
    if (n.flannel.backendType && n.flannel.backendType !== to) running.add(n.flannel.backendType);
  const from = [...running].filter((t) => ROUTED.has(t));
  return from.length > 0 ? { from, to } : null;
};

export const mixedWindowCheck: Check = {
  id: 'mixed-window',
  title: 'Mixed-backend window',
  description:
    'During a vxlan <-> host-gw switch each pair is routed directly one way and through flannel.N the other: strict rp_filter on the uplink or flannel.N drops pod traffic until both ends converted',
  needs: ['api', 'nodes'],
  evaluate(facts) {
    const change = pendingSwitch(facts);
    // No pair is half-converted, so no packet can meet the asymmetric window.
    if (!change)
      return [
        b.pass({
          message: `no backend switch pending: the ConfigMap and every node run ${facts.expectedBackend.value ?? 'the expected backend'}`,
        }),
      ];
    const window = `${change.from.join('/')} -> ${change.to}`;
    return forEachProbedNode(facts, b, (view, nodeFacts) => {
      const rp = nodeFacts.sysctls?.rpFilter;
      if (!rp) return [b.skipped(sectionReason(nodeFacts, 'rp_filter sysctls', ['sysctl']), view.name)];
      const uplink = uplinkOf(nodeFacts, view.publicIp);
      if (!uplink) return [b.skipped(`flannel's interface on ${view.name} is unknown`, view.name)];
      // cni0 carries only local pod traffic: not part of the asymmetry.
      const values = rpFilterInterfaces(nodeFacts, rp, uplink.name).filter((v) => v.name !== 'cni0');
      // Switching to vxlan creates flannel.N, which starts with conf.default's value.
      if (values.length === 1 && change.to === 'vxlan') {
        const name = vxlanDeviceName(netConfOf(facts));
        const fromDefault = typeof rp.default === 'number' ? rp.default : null;
        const all = typeof rp.all === 'number' ? rp.all : null;
        values.push({
          name,
          effective: all !== null && fromDefault !== null ? Math.max(all, fromDefault) : null,
          own: fromDefault ?? undefined,
        });
      }
      const strict = values.filter((v) => v.effective === 1);
      const lines = [
        `net.ipv4.conf.all.rp_filter = ${rp.all}`,
        ...values.map(
          (v) => `net.ipv4.conf.${v.name}.rp_filter = ${v.own ?? '?'} (effective ${v.effective ?? '?'})`,
        ),
      ];
      if (strict.length === 0) {
        const unread = values.filter((v) => v.effective === null).map((v) => v.name);
        if (unread.length === values.length)
          return [b.skipped(`rp_filter of ${listSome(unread)} could not be read on ${view.name}`, view.name)];
        return [
          b.pass({
            node: view.name,
            message: `rp_filter on ${view.name} is loose or off on ${values.map((v) => v.name).join(', ')}: the ${window} window cannot drop on it`,
            evidence: lines,
          }),
        ];
      }
      const names = strict.map((v) => v.name).join(', ');
      const sysctls = sysctlRemediation(
        looseRpFilterSettings(strict.map((v) => v.name)),
        RP_FILTER_SYSCTL_FILE,
      );
      return [
        b('strict-rp-filter', 'fail', {
          node: view.name,
          message: `Strict rp_filter on ${names} of ${view.name}: during the ${window} window a converted peer's packets arrive on ${uplink.name} while ${view.name} still routes back via flannel.1 (or the reverse), and strict mode drops them until both ends have converted`,
          evidence: lines,
          remediation: sh`flannelctl check-rpfilter --fix --nodes ${nameArg(view.name)}  # loose mode (2), persisted: ${comment(sysctls.text)}`,
        }),
      ];
    });
  },
};
