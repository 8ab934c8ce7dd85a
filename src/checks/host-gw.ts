// What host-gw needs of each node beyond L2 adjacency, judged only when the cluster is held to host-gw
// (its ConfigMap, --backend host-gw, or `doctor --for host-gw` / migrate's gate):
// - flanneld must start: the interface and addresses it picks (external-interface.ts) must exist, and
//   its PublicIP must be the interface's address, or host-gw's New() refuses with "your PublicIP
//   differs from interface IP…" (flannel pkg/backend/hostgw/hostgw.go);
// - peers route the node's podCIDR via its `public-ip` annotation, which public-ip-overwrite replaces
//   (pkg/subnet/kube/kube.go AcquireLease) without changing what flanneld checks: an overwrite that
//   is not an address of flanneld's interface sends every peer's pod traffic elsewhere;
// - on clouds with anti-spoofing (cloud-provider.ts) a per-VM setting must let pod IPs through.
import type { FlanneldInterfaceFlags } from '../facts/cluster-facts.ts';
import { ANNOTATIONS } from '../flannel/names.ts';
import { cloudRuleFor } from './cloud-provider.ts';
import { externalInterface, type PublicIpSetting } from './external-interface.ts';
import { findingBuilder, unreachableReason } from './finding.ts';
import { nameArg, sh, type Shell } from './shell-command.ts';
import { nodeViews, type NodeView } from './topology.ts';
import type { Check, Finding } from './types.ts';

const b = findingBuilder('host-gw');

/** flanneld's error, verbatim (pkg/backend/hostgw/hostgw.go New). */
export const HOST_GW_NAT_ERROR =
  "your PublicIP differs from interface IP, meaning that probably you're on a NAT, which is not supported by host-gw backend";

const publicIpSetting = (view: NodeView, flag: string | null): PublicIpSetting | null => {
  const annotated = view.api?.flannel.nodePublicIp;
  if (annotated) return { value: annotated, source: `annotation ${ANNOTATIONS.nodePublicIp}` };
  return flag ? { value: flag, source: 'flanneld --public-ip' } : null;
};

const unsetPublicIp = (node: string, setting: PublicIpSetting): Shell =>
  setting.source.startsWith('annotation')
    ? sh`kubectl annotate node ${nameArg(node)} ${nameArg(`${ANNOTATIONS.nodePublicIp}-`)}`
    : sh`remove --public-ip from the flanneld args of the DaemonSet`;

/** flanneld's interface flags from the DaemonSet; undefined when there is no DaemonSet to read them from. */
type Flags = FlanneldInterfaceFlags | null | undefined;

const nodeFindings = (view: NodeView, flags: Flags): Finding[] => {
  const out: Finding[] = [];
  const cloud = cloudRuleFor(view.api?.providerID ?? null);
  if (cloud) {
    out.push(
      b(cloud.code, 'warn', {
        node: view.name,
        message: `${view.name} runs on ${cloud.cloud}: ${cloud.setting}, or host-gw’s unencapsulated pod traffic is dropped by the cloud network although every route is in place (this cannot be checked from the node)`,
        evidence: [`spec.providerID = ${view.api!.providerID}`],
        remediation: cloud.remediation(view.name, cloud.instance),
      }),
    );
  }
  if (!view.facts) {
    if (view.probe) out.push(b.skipped(unreachableReason(view.probe), view.name));
    return out;
  }
  if (flags === undefined) return out;
  const setting = publicIpSetting(view, flags?.publicIp ?? null);
  const ext = externalInterface(view.facts, flags, setting);
  if (ext.kind === 'unknown') {
    out.push(
      b.skipped(`cannot tell which interface flanneld uses on ${view.name}: ${ext.reason}`, view.name),
    );
    return out;
  }
  if (ext.kind === 'exits') {
    out.push(
      b('no-interface', 'fail', {
        node: view.name,
        message: `flanneld on ${view.name} exits at start: "${ext.log}" (flannel main.go), so its pod crash-loops`,
        evidence: ext.how,
        ...(setting ? { remediation: unsetPublicIp(view.name, setting) } : {}),
      }),
    );
    return out;
  }
  const evidence = [...ext.how];
  if (ext.extAddr !== ext.ifaceAddr) {
    out.push(
      b('public-ip-differs', 'fail', {
        node: view.name,
        message: `flanneld on ${view.name} would refuse host-gw and crash-loop: "${HOST_GW_NAT_ERROR}" (PublicIP ${ext.extAddr} from ${setting?.source}, ${ext.iface} has ${ext.ifaceAddr})`,
        evidence,
        remediation: sh`${unsetPublicIp(view.name, setting!)}  # host-gw routes to the interface address; behind NAT stay on vxlan`,
      }),
    );
  }
  const overwrite = view.api?.flannel.publicIpOverwrite;
  const onIface = (view.facts.addresses ?? []).filter((a) => a.ifname === ext.iface).map((a) => a.local);
  if (overwrite && !onIface.includes(overwrite)) {
    out.push(
      b('public-ip-overwrite', 'fail', {
        node: view.name,
        message: `${ANNOTATIONS.publicIpOverwrite} on ${view.name} is ${overwrite}: flanneld publishes it as the node's public-ip, so every host-gw peer routes ${view.podCIDR ?? 'its podCIDR'} via ${overwrite}, which is not an address of ${ext.iface} (${onIface.join(', ') || 'none'}); host-gw cannot cross NAT`,
        evidence: [...evidence, `${ANNOTATIONS.publicIpOverwrite} = ${overwrite}`],
        remediation: sh`kubectl annotate node ${nameArg(view.name)} ${nameArg(`${ANNOTATIONS.publicIpOverwrite}-`)}  # then restart its flannel pod`,
      }),
    );
  }
  if (out.every((f) => f.severity !== 'fail')) {
    out.push(
      b.pass({
        node: view.name,
        message: `flanneld on ${view.name} uses ${ext.iface} with ${ext.ifaceAddr} as both interface and public address`,
        evidence,
      }),
    );
  }
  return out;
};

export const hostGwCheck: Check = {
  id: 'host-gw',
  title: 'host-gw prerequisites',
  description:
    'flanneld can start host-gw (its public IP is its interface address, no public-ip-overwrite elsewhere) and the cloud lets pod IPs through',
  needs: ['api'],
  evaluate(facts) {
    const expected = facts.expectedBackend.value;
    if (expected !== 'host-gw')
      return [
        b.skipped(
          `the expected backend is ${expected ?? 'unknown'}; these are host-gw prerequisites (doctor --for host-gw)`,
        ),
      ];
    const views = nodeViews(facts);
    if (views.length === 0) return [b.skipped('no node in the API or the probe set')];
    const ds = facts.api?.flannel?.daemonSet;
    const flags: Flags = ds ? ds.interfaceFlags : undefined;
    const findings = views.flatMap((view) => nodeFindings(view, flags));
    if (flags === undefined)
      findings.push(b.skipped("no flannel DaemonSet in the API to read flanneld's interface flags from"));
    return findings;
  },
};
