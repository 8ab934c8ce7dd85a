// /run/flannel/subnet.env is what the CNI plugin configures pods from: each key must agree with the
// ConfigMap and the node (FLANNEL_SUBNET = podCIDR's .1, FLANNEL_MTU = the backend's rule for the
// MTU of the interface carrying the node's public IP, FLANNEL_IPMASQ = --ip-masq).
import { SUBNET_ENV_PATH } from '../flannel/names.ts';
import { expectedFlannelMtu } from '../flannel/mtu.ts';
import type { AnyBackend } from '../flannel/net-conf.ts';
import type { ClusterFacts } from '../facts/cluster-facts.ts';
import type { NodeFacts } from '../facts/node-facts.ts';
import { findingBuilder } from './finding.ts';
import { forEachProbedNode, sectionReason } from './per-node.ts';
import { sh } from './shell-command.ts';
import { flannelPodCommands, flannelSubnetFor, netConfOf, uplinkOf, type NodeView } from './topology.ts';
import type { Check, Finding } from './types.ts';

const b = findingBuilder('subnet-env');

/** The backend flanneld should be running: the ConfigMap's (with its options), else the expected type. */
export const expectedBackendConfig = (facts: ClusterFacts): AnyBackend | null => {
  const conf = netConfOf(facts);
  if (conf) return conf.Backend;
  return facts.expectedBackend.value ? { Type: facts.expectedBackend.value } : null;
};

export interface ExpectedMtu {
  readonly value: number;
  readonly evidence: string;
}

/** FLANNEL_MTU per the backend rule on this node, with the line explaining it; null when unknown. */
export const expectedMtuFor = (
  facts: ClusterFacts,
  view: NodeView,
  nodeFacts: NodeFacts,
): ExpectedMtu | null => {
  const backend = expectedBackendConfig(facts);
  const uplink = uplinkOf(nodeFacts, view.publicIp);
  const link = uplink ? nodeFacts.links?.find((l) => l.name === uplink.name) : undefined;
  if (!backend || !uplink || !link?.mtu) return null;
  const value = expectedFlannelMtu(backend, link.mtu);
  if (value === undefined) return null;
  return { value, evidence: `${uplink.how}, mtu ${link.mtu}; ${backend.Type} rule gives ${value}` };
};

export const subnetEnvCheck: Check = {
  id: 'subnet-env',
  title: 'subnet.env',
  description: `${SUBNET_ENV_PATH} on each node agrees with net-conf.json and the node: FLANNEL_NETWORK, FLANNEL_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ`,
  needs: ['nodes'],
  evaluate(facts) {
    const conf = netConfOf(facts);
    const ds = facts.api?.flannel?.daemonSet ?? null;
    return forEachProbedNode(facts, b, (view, nodeFacts) => {
      const env = nodeFacts.subnetEnv;
      if (env === null)
        return [b.skipped(sectionReason(nodeFacts, SUBNET_ENV_PATH, ['subnet-env']), view.name)];
      if (env === 'missing') {
        return [
          b('missing', 'fail', {
            node: view.name,
            message: `${SUBNET_ENV_PATH} does not exist on ${view.name}: new pods there fail in flannel's CNI plugin ("failed to load flannel 'subnet.env' file", FailedCreatePodSandBox events)`,
            evidence: [`${SUBNET_ENV_PATH}: No such file or directory`],
            remediation: flannelPodCommands(facts, view.name).logs,
          }),
        ];
      }
      const findings: Finding[] = [];
      const restart = flannelPodCommands(facts, view.name).restart;
      const mismatch = (code: string, key: string, actual: string | null, expected: string, why: string) =>
        findings.push(
          b(code, 'fail', {
            node: view.name,
            message: `${key} on ${view.name} is ${actual ?? 'unset'}, expected ${expected} (${why})`,
            evidence: [`${SUBNET_ENV_PATH}: ${key}=${env.raw[key] ?? ''}`],
            remediation: sh`${restart}  # flanneld rewrites subnet.env at start`,
          }),
        );
      if (conf?.Network && env.network !== conf.Network) {
        mismatch('network-mismatch', 'FLANNEL_NETWORK', env.network, conf.Network, 'net-conf.json Network');
      }
      const subnet = view.api && view.podCIDR ? flannelSubnetFor(view.podCIDR) : null;
      if (subnet && env.subnet !== subnet) {
        mismatch('subnet-mismatch', 'FLANNEL_SUBNET', env.subnet, subnet, `podCIDR ${view.podCIDR}`);
      }
      const mtu = expectedMtuFor(facts, view, nodeFacts);
      if (mtu && env.mtu !== mtu.value) {
        findings.push(
          b('mtu-mismatch', 'fail', {
            node: view.name,
            message: `FLANNEL_MTU on ${view.name} is ${env.mtu ?? 'unset'}, expected ${mtu.value}: flanneld has not restarted since the backend or MTU changed`,
            evidence: [`${SUBNET_ENV_PATH}: FLANNEL_MTU=${env.raw.FLANNEL_MTU ?? ''}`, mtu.evidence],
            remediation: sh`${restart}  # flanneld rewrites subnet.env at start`,
          }),
        );
      }
      if (ds?.ipMasq != null && env.ipMasq !== ds.ipMasq) {
        mismatch(
          'ipmasq-mismatch',
          'FLANNEL_IPMASQ',
          env.raw.FLANNEL_IPMASQ ?? null,
          String(ds.ipMasq),
          `DaemonSet ${ds.ipMasq ? 'passes' : 'does not pass'} --ip-masq`,
        );
      }
      if (findings.length === 0) {
        findings.push(
          b.pass({
            node: view.name,
            message: `${SUBNET_ENV_PATH} on ${view.name} is consistent`,
            evidence: Object.entries(env.raw).map(([k, v]) => `${k}=${v}`),
          }),
        );
      }
      return findings;
    });
  },
};
