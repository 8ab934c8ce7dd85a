// Which nodes a command talks to and at which address: API node objects and/or an inventory, narrowed
// by --nodes, become NodeTargets. The selection itself is a pure function; listApiNodes reads the API.
import { UsageError } from '../errors.ts';
import { ANNOTATIONS } from '../flannel/names.ts';
import type { KubeClient } from '../kube/client.ts';
import { isIpLiteral, validateNodeTarget, type NodeTarget } from './exec.ts';
import type { Inventory, InventoryNode } from './inventory.ts';

/** --node-address: which of the node's addresses to connect to; undefined = public-ip, then InternalIP. */
export type NodeAddressPreference = 'public-ip' | 'internal-ip' | 'external-ip';
export const NODE_ADDRESS_PREFERENCES: readonly NodeAddressPreference[] = [
  'public-ip',
  'internal-ip',
  'external-ip',
];

export type AddressSource =
  'public-ip-annotation' | 'internal-ip' | 'external-ip' | 'inventory' | 'inventory-ssh-host';

/** The part of a V1Node flannelctl reads (plain API JSON). */
export interface ApiNode {
  readonly metadata?: { readonly name?: string; readonly annotations?: Readonly<Record<string, string>> };
  readonly spec?: { readonly podCIDR?: string; readonly podCIDRs?: readonly string[] };
  readonly status?: { readonly addresses?: readonly { readonly type: string; readonly address: string }[] };
}

export interface SelectedNode extends NodeTarget {
  readonly podCIDRs: readonly string[];
  /** The node's IP as its peers route to it (flannel's public-ip), for `ip route get`; null if unknown. */
  readonly peerAddress: string | null;
  /**
   * Dual stack: the node's `public-ipv6` annotation, flanneld's IPv6 next hop (written only with
   * EnableIPv6), so `ip route get` runs for IPv6 peers only where flannel routes IPv6.
   */
  readonly peerAddressV6?: string;
  readonly addressSource: AddressSource;
  /** One line for -v output and reports: why this address. */
  readonly addressReason: string;
}

/** A selected node that cannot be reached because it has no usable address. */
export interface UnaddressableNode {
  readonly name: string;
  readonly reason: string;
}

export interface NodeSelection {
  readonly nodes: readonly SelectedNode[];
  readonly unaddressable: readonly UnaddressableNode[];
  /** Inventory nodes the API does not list (or that -l filtered out); they are not selected. */
  readonly notInApi: readonly string[];
  /** Suspicious but usable input, e.g. an unparsable public-ip annotation that was skipped. */
  readonly warnings: readonly string[];
}

export interface SelectNodesInput {
  /** Nodes from the API (already filtered server-side by -l); undefined when there is no cluster. */
  readonly apiNodes?: readonly ApiNode[];
  readonly inventory?: Inventory;
  /** --nodes: only these, in this order. */
  readonly names?: readonly string[];
  readonly addressPreference?: NodeAddressPreference;
  /** --ssh-user/--ssh-port: beat the inventory's top-level defaults, not a node's own ssh settings. */
  readonly sshUser?: string;
  readonly sshPort?: number;
  /** The -l selector the API nodes were listed with, for messages. */
  readonly selector?: string;
}

const addressOf = (node: ApiNode, type: string): string | undefined =>
  node.status?.addresses?.find((a) => a.type === type)?.address;

const podCidrsOf = (node: ApiNode): string[] => {
  const list = node.spec?.podCIDRs ?? [];
  if (list.length > 0) return [...list];
  return node.spec?.podCIDR ? [node.spec.podCIDR] : [];
};

interface ApiAddress {
  readonly address?: string;
  readonly source?: AddressSource;
  readonly reason: string;
}

/** The address flannel itself would use for this node (its public-ip), per --node-address. */
const apiAddress = (
  node: ApiNode,
  name: string,
  pref: NodeAddressPreference | undefined,
  warnings: string[],
): ApiAddress => {
  const annotation = node.metadata?.annotations?.[ANNOTATIONS.publicIp];
  const internal = addressOf(node, 'InternalIP');
  const external = addressOf(node, 'ExternalIP');
  const badAnnotation = annotation !== undefined && !isIpLiteral(annotation);
  if (badAnnotation) {
    warnings.push(
      `node ${name}: ignoring ${ANNOTATIONS.publicIp} ${JSON.stringify(annotation)}: not an IP address`,
    );
  }
  switch (pref) {
    case 'public-ip':
      return annotation !== undefined && !badAnnotation
        ? {
            address: annotation,
            source: 'public-ip-annotation',
            reason: `${ANNOTATIONS.publicIp} annotation (--node-address public-ip)`,
          }
        : {
            reason: `no usable ${ANNOTATIONS.publicIp} annotation (is flannel running on it?); try --node-address internal-ip`,
          };
    case 'internal-ip':
      return internal
        ? { address: internal, source: 'internal-ip', reason: 'InternalIP (--node-address internal-ip)' }
        : { reason: 'no InternalIP in its status; try --node-address external-ip or an --inventory' };
    case 'external-ip':
      return external
        ? { address: external, source: 'external-ip', reason: 'ExternalIP (--node-address external-ip)' }
        : { reason: 'no ExternalIP in its status; try --node-address internal-ip or an --inventory' };
    default:
      if (annotation !== undefined && !badAnnotation)
        return {
          address: annotation,
          source: 'public-ip-annotation',
          reason: `${ANNOTATIONS.publicIp} annotation`,
        };
      if (internal)
        return {
          address: internal,
          source: 'internal-ip',
          reason: `InternalIP (no ${badAnnotation ? 'valid ' : ''}${ANNOTATIONS.publicIp} annotation)`,
        };
      return {
        reason: `no ${ANNOTATIONS.publicIp} annotation and no InternalIP; give its address in an --inventory`,
      };
  }
};

const listNames = (names: readonly string[]): string =>
  names.length <= 20 ? names.join(', ') : `${names.slice(0, 20).join(', ')} and ${names.length - 20} more`;

/**
 * Pure: API nodes and/or inventory + flags → targets. With both, the API decides which nodes exist and
 * the inventory wins for address and SSH settings. Throws UsageError for --nodes naming an unknown node.
 */
export const selectNodes = (input: SelectNodesInput): NodeSelection => {
  const { apiNodes, inventory } = input;
  if (!apiNodes && !inventory) throw new Error('selectNodes needs API nodes or an inventory');
  const warnings: string[] = [];
  const inventoryByName = new Map<string, InventoryNode>(inventory?.nodes.map((n) => [n.name, n]) ?? []);
  const apiByName = new Map<string, ApiNode>();
  for (const node of apiNodes ?? []) {
    const name = node.metadata?.name;
    if (name) apiByName.set(name, node);
  }
  const known = apiNodes ? [...apiByName.keys()] : [...inventoryByName.keys()];
  const notInApi = apiNodes ? [...inventoryByName.keys()].filter((name) => !apiByName.has(name)) : [];

  let chosen = known;
  if (input.names && input.names.length > 0) {
    const unknown = input.names.filter((name) => !known.includes(name));
    if (unknown.length > 0) {
      const from = apiNodes
        ? `the cluster${input.selector ? ` (with -l ${input.selector})` : ''}`
        : `inventory ${inventory!.file}`;
      throw new UsageError(
        `--nodes: ${unknown.length === 1 ? 'no node' : 'no nodes'} named ${unknown.join(', ')} in ${from}`,
        known.length > 0 ? `known nodes: ${listNames(known)}` : 'no nodes are known at all',
      );
    }
    chosen = [...new Set(input.names)];
  }

  const nodes: SelectedNode[] = [];
  const unaddressable: UnaddressableNode[] = [];
  for (const name of chosen) {
    const api = apiByName.get(name);
    const inv = inventoryByName.get(name);
    const fromApi = api ? apiAddress(api, name, input.addressPreference, warnings) : undefined;
    let address: string | undefined;
    let source: AddressSource | undefined;
    let reason: string;
    if (inv) {
      address = inv.ssh?.host ?? inv.address;
      source = inv.ssh?.host ? 'inventory-ssh-host' : 'inventory';
      reason = inv.ssh?.host ? `ssh.host in ${inventory!.file}` : `address in ${inventory!.file}`;
    } else {
      address = fromApi!.address;
      source = fromApi!.source;
      reason = fromApi!.reason;
    }
    if (address === undefined || source === undefined) {
      unaddressable.push({ name, reason });
      continue;
    }
    // Peers reach the node at its IP; an inventory host name cannot go into `ip route get`.
    const peerAddress =
      [inv?.address, fromApi?.address].find((a) => a !== undefined && isIpLiteral(a)) ?? null;
    const v6 = api?.metadata?.annotations?.[ANNOTATIONS.publicIpv6];
    const peerAddressV6 = v6 !== undefined && v6.includes(':') && isIpLiteral(v6) ? v6 : undefined;
    const user = inv?.ssh?.user ?? input.sshUser ?? inventory?.ssh?.user;
    const port = inv?.ssh?.port ?? input.sshPort ?? inventory?.ssh?.port;
    const podCIDRs = api ? podCidrsOf(api) : inv?.podCIDR ? [inv.podCIDR] : [];
    const target: SelectedNode = {
      name,
      address,
      ...(port !== undefined ? { port } : {}),
      ...(user !== undefined ? { user } : {}),
      podCIDRs: podCIDRs.length > 0 ? podCIDRs : inv?.podCIDR ? [inv.podCIDR] : [],
      peerAddress,
      ...(peerAddressV6 !== undefined ? { peerAddressV6 } : {}),
      addressSource: source,
      addressReason: reason,
    };
    try {
      validateNodeTarget(target);
    } catch (error) {
      // An API value that is not a plain name or address never reaches a connection or a shell.
      unaddressable.push({ name, reason: (error as Error).message });
      continue;
    }
    nodes.push(target);
  }
  return { nodes, unaddressable, notInApi, warnings };
};

/** Lists nodes from the API; the -l selector is applied server-side. */
export const listApiNodes = async (kube: KubeClient, selector?: string): Promise<ApiNode[]> =>
  (await kube.list('v1', 'Node', selector ? { labelSelector: selector } : {})) as ApiNode[];

/** Per-node warnings shown before this many are summarised (the rest with -v). */
const WARNINGS_SHOWN = 5;

/**
 * The warning lines a selection prints: a large inventory (or fleet) gets a summary, not a line per
 * node; with verbose every line is kept.
 */
export const selectionWarnings = (selection: NodeSelection, verbose = false): string[] => {
  const lines = [...selection.warnings];
  if (!verbose && lines.length > WARNINGS_SHOWN) {
    lines.splice(
      WARNINGS_SHOWN,
      lines.length,
      `${lines.length - WARNINGS_SHOWN} more warning(s) like these; -v shows every one`,
    );
  }
  const missing = selection.notInApi;
  if (missing.length === 1) lines.push(`inventory node ${missing[0]} is not in the cluster; skipped`);
  else if (missing.length > 1)
    lines.push(`${missing.length} inventory nodes are not in the cluster; skipped: ${listNames(missing)}`);
  return lines.map((line) => `warning: ${line}`);
};
