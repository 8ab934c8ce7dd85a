// Clouds whose virtual network drops packets addressed to or from an IP the VM does not own, unless a
// per-VM setting allows it. host-gw sends pod IPs unencapsulated between nodes, so on these clouds the
// route installs and the traffic silently disappears (flannel#506 and #230 on AWS; Rancher's "Networking
// Requirements for Host Gateway" for Azure and GCE). vxlan is not affected: the outer packet carries
// node IPs. The provider comes from the node's spec.providerID (`<provider>://…`, set by the cloud's
// controller manager). The setting cannot be read from the node, hence a warning, not a failure.
import { nameArg, quoted, sh, type Shell } from './shell-command.ts';

export interface CloudRule {
  /** The finding code's suffix. */
  readonly code: string;
  readonly cloud: string;
  /** The setting that must allow pod IPs, as the cloud names it. */
  readonly setting: string;
  /** What to run (or where to look) for this node; the instance is filled in when it could be read. */
  readonly remediation: (node: string, instance: string | null) => Shell;
}

// Only IDs of the expected shape reach a remediation command; anything else gets a placeholder.
const AWS_INSTANCE = /^i-[0-9a-f]{8,17}$/;
const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

const lastSegment = (providerID: string): string => providerID.split('/').filter(Boolean).at(-1) ?? '';

const RULES: Readonly<Record<string, CloudRule & { readonly instance: (id: string) => string | null }>> = {
  aws: {
    code: 'aws-source-dest-check',
    cloud: 'AWS EC2',
    setting:
      'Source/destination check (SourceDestCheck) must be disabled on the instance’s network interfaces',
    instance: (id) => (AWS_INSTANCE.test(lastSegment(id)) ? lastSegment(id) : null),
    remediation: (node, instance) =>
      sh`aws ec2 modify-instance-attribute --instance-id ${instance ? quoted(instance) : sh`<instance of ${nameArg(node)}>`} --no-source-dest-check`,
  },
  azure: {
    code: 'azure-ip-forwarding',
    cloud: 'Azure',
    setting:
      'IP forwarding must be enabled on the VM’s network interface, and a route table must send each podCIDR to its node',
    instance: (id) => (NAME.test(lastSegment(id).toLowerCase()) ? lastSegment(id) : null),
    remediation: (node, instance) =>
      sh`az network nic update --ids <NIC of ${nameArg(instance ?? node)}> --ip-forwarding true  # and a route table entry <podCIDR> -> <node IP> per node`,
  },
  gce: {
    code: 'gce-can-ip-forward',
    cloud: 'Google Compute Engine',
    setting:
      'canIpForward must be set on the instance (only at creation), and a VPC route must send each podCIDR to its node',
    instance: (id) => (NAME.test(lastSegment(id)) ? lastSegment(id) : null),
    remediation: (node, instance) =>
      sh`gcloud compute instances describe ${nameArg(instance ?? node)} --format='value(canIpForward)'  # must be True; set with --can-ip-forward when creating the instance`,
  },
  openstack: {
    code: 'openstack-port-security',
    cloud: 'OpenStack',
    setting:
      'the Neutron port must allow the pod network (allowed-address-pairs) or have port security disabled',
    instance: () => null,
    remediation: (node) =>
      sh`openstack port set --allowed-address ip-address=<pod network> <port of ${nameArg(node)}>`,
  },
};

export interface CloudMatch extends CloudRule {
  readonly instance: string | null;
}

/** The cloud rule for a providerID, or null for providers without such a filter (or none set). */
export const cloudRuleFor = (providerID: string | null): CloudMatch | null => {
  const scheme = providerID ? /^([a-z0-9-]+):\/\//.exec(providerID)?.[1] : undefined;
  const rule = scheme && Object.hasOwn(RULES, scheme) ? RULES[scheme] : undefined;
  if (!rule || !providerID) return null;
  return { ...rule, instance: rule.instance(providerID) };
};
