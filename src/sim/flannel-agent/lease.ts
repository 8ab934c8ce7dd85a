// The kube subnet manager's view of nodes (pkg/subnet/kube): a node with flannel's annotations is a
// lease; AcquireLease writes the annotations (only when they differ) and checks the podCIDR.
import type { KubeObject } from '../cluster-seed.ts';
import { contains, parseIp, tryParseCidr } from '../../flannel/cidr.ts';
import { ANNOTATIONS } from '../../flannel/names.ts';

export interface Lease {
  readonly node: string;
  /** The node's podCIDR, canonical. */
  readonly subnet: string;
  readonly publicIp: string;
  readonly backendType: string;
  /** backend-data as written (raw JSON text). */
  readonly backendData: string;
}

export interface LeaseAttrs {
  readonly publicIp: string;
  readonly backendType: string;
  /** JSON text: vxlan {"VNI":1,"VtepMAC":"…"}, host-gw null. */
  readonly backendData: string;
}

const annotationsOf = (node: KubeObject): Record<string, string> => node.metadata?.annotations ?? {};

export const podCidrOf = (node: KubeObject): string =>
  (node.spec as { podCIDR?: string } | undefined)?.podCIDR ?? '';

export const internalIpOf = (node: KubeObject): string | undefined =>
  (node.status as { addresses?: { type: string; address: string }[] } | undefined)?.addresses?.find(
    (a) => a.type === 'InternalIP',
  )?.address;

/** nodeToLease; undefined for nodes the lease informer ignores (not kube-subnet-manager, no public-ip). */
export const nodeToLease = (node: KubeObject): Lease | undefined => {
  const a = annotationsOf(node);
  if (a[ANNOTATIONS.kubeSubnetManager] !== 'true') return undefined;
  const publicIp = a[ANNOTATIONS.publicIp] ?? '';
  const subnet = tryParseCidr(podCidrOf(node));
  if (!parseIp(publicIp) || !subnet) return undefined;
  return {
    node: node.metadata!.name!,
    subnet: subnet.text,
    publicIp,
    backendType: a[ANNOTATIONS.backendType] ?? '',
    backendData: a[ANNOTATIONS.backendData] ?? '',
  };
};

/** handleUpdateLeaseEvent fires only when one of these changed. */
export const leaseChanged = (before: KubeObject, after: KubeObject): boolean => {
  const a = annotationsOf(before);
  const b = annotationsOf(after);
  return (
    a[ANNOTATIONS.backendData] !== b[ANNOTATIONS.backendData] ||
    a[ANNOTATIONS.backendType] !== b[ANNOTATIONS.backendType] ||
    a[ANNOTATIONS.publicIp] !== b[ANNOTATIONS.publicIp]
  );
};

/** The annotations AcquireLease would patch, or undefined when the node already carries them. */
export const leaseAnnotationPatch = (
  node: KubeObject,
  attrs: LeaseAttrs,
): Record<string, string> | undefined => {
  const a = annotationsOf(node);
  const overwrite = a[ANNOTATIONS.publicIpOverwrite] ?? '';
  const want: Record<string, string> = {
    [ANNOTATIONS.backendType]: attrs.backendType,
    [ANNOTATIONS.backendData]: attrs.backendData,
    [ANNOTATIONS.publicIp]: overwrite || attrs.publicIp,
    [ANNOTATIONS.kubeSubnetManager]: 'true',
  };
  const changed =
    a[ANNOTATIONS.backendData] !== attrs.backendData ||
    a[ANNOTATIONS.backendType] !== attrs.backendType ||
    a[ANNOTATIONS.publicIp] !== attrs.publicIp ||
    a[ANNOTATIONS.kubeSubnetManager] !== 'true' ||
    (overwrite !== '' && overwrite !== a[ANNOTATIONS.publicIp]);
  if (!changed) return undefined;
  // CreateTwoWayMergePatch carries only what differs.
  const patch: Record<string, string> = {};
  for (const [key, value] of Object.entries(want)) if (a[key] !== value) patch[key] = value;
  return Object.keys(patch).length > 0 ? patch : undefined;
};

/** The AcquireLease errors flanneld exits with for the node's podCIDR. */
export const podCidrProblem = (node: KubeObject, network: string): string | undefined => {
  const name = node.metadata!.name!;
  const podCidr = podCidrOf(node);
  if (!podCidr) return `node "${name}" pod cidr not assigned`;
  const cidr = tryParseCidr(podCidr);
  const net = tryParseCidr(network);
  if (!cidr || !net) return `invalid CIDR address: ${podCidr}`;
  if (!contains(net, cidr))
    return `subnet "${net.text}" specified in the flannel net config doesn't contain "${cidr.text}" PodCIDR of the "${name}" node`;
  return undefined;
};

/** The vxlan backend-data flanneld writes: {"VNI":1,"VtepMAC":"aa:bb:…"} (Go field order). */
export const vxlanBackendData = (vni: number, mac: string): string =>
  JSON.stringify({ VNI: vni, VtepMAC: mac });

/** VtepMAC from backend-data text; undefined when absent or not JSON. */
export const vtepMacOf = (backendData: string): string | undefined => {
  try {
    const parsed = JSON.parse(backendData) as { VtepMAC?: unknown } | null;
    return typeof parsed?.VtepMAC === 'string' ? parsed.VtepMAC : undefined;
  } catch {
    return undefined;
  }
};
