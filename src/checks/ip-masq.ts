// Who masquerades pod traffic. flanneld --ip-masq masquerades only traffic leaving the pod network
// (flannel pkg/trafficmngr/iptables masqRules: RETURN within the cluster CIDR, then MASQUERADE).
// Without it FLANNEL_IPMASQ=false (flannel main.go, pkg/subnet/subnet.go WriteSubnetFile), and the
// flannel CNI plugin gives a delegate without ipMasq `ipMasq: !FLANNEL_IPMASQ` = true
// (flannel-io/cni-plugin flannel_linux.go doCmdAdd): the bridge plugin then SNATs every pod's
// traffic to other nodes' pods (containernetworking/plugins pkg/ip/ipmasq_iptables_linux.go).
import { bridgeMasquerades, flannelPlugin, parseCniConf, serializeCniConf } from '../flannel/cni-conf.ts';
import { CNI_CONF_KEY } from '../flannel/names.ts';
import type { FlannelInstallFacts } from '../facts/cluster-facts.ts';
import { findingBuilder } from './finding.ts';
import { comment, kubeNameArg, quoted, sh, type Shell } from './shell-command.ts';
import type { Check } from './types.ts';

const b = findingBuilder('ip-masq');

/** cni-conf.json with the flannel delegate's ipMasq set to false; every other key as written. */
const withoutBridgeMasq = (text: string): string => {
  const conf = parseCniConf(text, CNI_CONF_KEY);
  const plugin = flannelPlugin(conf)!;
  plugin.delegate = { ...(plugin.delegate ?? {}), ipMasq: false };
  return serializeCniConf(conf);
};

/**
 * Replace cni-conf.json (only that key) and restart the DaemonSet: install-cni copies the file to
 * each node only when a flannel pod starts.
 */
const fixCommand = (flannel: FlannelInstallFacts, cniConfText: string): Shell => {
  // Kubernetes object names only; anything else becomes a placeholder, not part of the command.
  const ns = kubeNameArg(flannel.namespace) ?? sh`<namespace>`;
  const cm = kubeNameArg(flannel.configMapName) ?? sh`<configmap>`;
  const ds = kubeNameArg(flannel.daemonSet?.name) ?? sh`<daemonset>`;
  const patch = JSON.stringify({ data: { [CNI_CONF_KEY]: withoutBridgeMasq(cniConfText) } });
  return sh`kubectl -n ${ns} patch configmap ${cm} --type merge -p ${quoted(patch)} && kubectl -n ${ns} rollout restart daemonset/${ds}`;
};

export const ipMasqCheck: Check = {
  id: 'ip-masq',
  title: 'IP masquerade',
  description:
    "flanneld's --ip-masq and cni-conf.json's delegate ipMasq together leave pod-to-pod traffic between nodes un-NATed",
  needs: ['api', 'flannel'],
  evaluate(facts) {
    const flannel = facts.api?.flannel;
    if (!flannel) return [b.skipped('flannel is not installed (no DaemonSet or ConfigMap found)')];
    const flanneldMasq = flannel.daemonSet?.ipMasq ?? null;
    if (flanneldMasq === null) {
      return [
        b.skipped(
          flannel.daemonSet
            ? `cannot tell whether flanneld runs with --ip-masq: daemonset ${flannel.namespace}/${flannel.daemonSet.name} hides its flags (a wrapper command or FLANNELD_IP_MASQ from a reference)`
            : 'no flannel DaemonSet found',
        ),
      ];
    }
    const cni = flannel.cniConf;
    if (!cni)
      return [b.skipped(`ConfigMap ${flannel.namespace}/${flannel.configMapName} has no ${CNI_CONF_KEY}`)];
    if (!cni.delegate) return [b.skipped(`${CNI_CONF_KEY} is unusable: ${cni.error ?? 'unknown error'}`)];
    const delegateSays = 'ipMasq' in cni.delegate;
    const evidence = [
      `daemonset ${flannel.namespace}/${flannel.daemonSet!.name}: flanneld ${flanneldMasq ? 'with' : 'without'} --ip-masq (FLANNEL_IPMASQ=${flanneldMasq})`,
      `${CNI_CONF_KEY} flannel delegate: ${JSON.stringify(cni.delegate)}`,
    ];
    if (!bridgeMasquerades(cni.delegate, flanneldMasq)) {
      return [
        b.pass({
          message: flanneldMasq
            ? 'pod-to-pod traffic keeps pod addresses: flanneld --ip-masq masquerades only traffic leaving the pod network'
            : 'nothing masquerades: pods reach other nodes and the outside with their own addresses (the network must route the pod CIDR)',
          evidence,
        }),
      ];
    }
    const why = delegateSays
      ? `${CNI_CONF_KEY}'s delegate sets "ipMasq": true`
      : 'flanneld runs without --ip-masq and the delegate has no "ipMasq", so the flannel CNI plugin sets it to !FLANNEL_IPMASQ = true';
    const egress = flanneldMasq
      ? ''
      : `; pods then reach addresses outside ${flannel.netConf?.Network ?? 'the pod network'} un-NATed — if the network does not route the pod CIDR, run flanneld with --ip-masq instead`;
    return [
      b('cross-node-snat', delegateSays ? 'warn' : 'fail', {
        message: `${why}: the bridge plugin masquerades each pod's traffic to pods on other nodes, which see the node's address instead of the pod's (NetworkPolicies and logs by pod IP miss it)`,
        evidence,
        remediation: sh`${fixCommand(flannel, cni.text)}  # then recreate pods started before: each keeps its CNI-… MASQUERADE chain until deleted${comment(egress)}`,
      }),
    ];
  },
};
