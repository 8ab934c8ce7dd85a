// A node inventory file (YAML or JSON): which nodes exist and how to reach them, for runs without a
// cluster API (pre-install preflight) or to override what the API says about addresses and SSH.
import { parse, YAMLParseError } from 'yaml';
import { UsageError } from '../errors.ts';
import { tryParseCidr } from '../flannel/cidr.ts';
import { validateNodeTarget } from './exec.ts';
import { readRegularFile } from '../files.ts';

export interface InventorySsh {
  readonly user?: string;
  readonly port?: number;
}

export interface InventoryNodeSsh extends InventorySsh {
  /** Where to connect when it differs from `address` (e.g. a DNS name for a node's private IP). */
  readonly host?: string;
}

export interface InventoryNode {
  /** The Kubernetes node name. */
  readonly name: string;
  /** The node's address: what peers route to, and where SSH connects unless ssh.host says otherwise. */
  readonly address: string;
  readonly podCIDR?: string;
  readonly ssh?: InventoryNodeSsh;
}

export interface Inventory {
  /** The file it was read from, for messages. */
  readonly file: string;
  /** Defaults for every node; a node's own ssh settings win. */
  readonly ssh?: InventorySsh;
  readonly nodes: readonly InventoryNode[];
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const HINT =
  'expected nodes: [{name, address, podCIDR?, ssh?: {user?, port?, host?}}] and an optional ssh: {user?, port?}';

/** Parses and strictly validates inventory text; every message names the file, the entry and the field. */
export const parseInventory = (text: string, file: string): Inventory => {
  const fail = (where: string, message: string, hint: string = HINT): never => {
    throw new UsageError(`${file}: ${where ? `${where}: ` : ''}${message}`, hint);
  };
  let doc: unknown;
  try {
    // YAML 1.2 is a superset of JSON, so one parser reads both; duplicate keys are errors.
    doc = parse(text, { uniqueKeys: true, prettyErrors: true });
  } catch (error) {
    const where =
      error instanceof YAMLParseError && error.linePos
        ? `line ${error.linePos[0].line}, column ${error.linePos[0].col}`
        : '';
    fail(where, `not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!isObject(doc)) return fail('', 'the file must hold a mapping with a "nodes" list');
  const unknownKeys = (obj: Json, allowed: readonly string[], where: string): void => {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key))
        fail(where, `unknown field ${JSON.stringify(key)} (allowed: ${allowed.join(', ')})`);
    }
  };
  unknownKeys(doc, ['nodes', 'ssh'], '');

  const sshOf = (value: unknown, where: string, allowHost: boolean): InventoryNodeSsh | undefined => {
    if (value === undefined || value === null) return undefined;
    if (!isObject(value)) return fail(where, 'must be a mapping');
    unknownKeys(value, allowHost ? ['user', 'port', 'host'] : ['user', 'port'], where);
    const { user, port, host } = value;
    if (user !== undefined && (typeof user !== 'string' || !/^[a-z_][a-z0-9_.-]{0,31}$/.test(user)))
      fail(`${where}.user`, `${JSON.stringify(user)} is not a valid user name`);
    if (port !== undefined && !(Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535))
      fail(`${where}.port`, `${JSON.stringify(port)} is not a port number (1-65535)`);
    if (host !== undefined) checkAddress(host, `${where}.host`);
    return {
      ...(user !== undefined ? { user: user as string } : {}),
      ...(port !== undefined ? { port: port as number } : {}),
      ...(host !== undefined ? { host: host as string } : {}),
    };
  };
  const checkAddress = (value: unknown, where: string): string => {
    if (typeof value !== 'string') return fail(where, 'must be a string (an IP address or host name)');
    try {
      validateNodeTarget({ name: 'inventory', address: value });
    } catch {
      fail(
        where,
        `${JSON.stringify(value)} is not an IP address or host name`,
        'give a plain IPv4/IPv6 address or a DNS name',
      );
    }
    return value;
  };

  const defaults = sshOf(doc.ssh, 'ssh', false);
  if (!Array.isArray(doc.nodes)) return fail('nodes', 'must be a list of nodes');
  if (doc.nodes.length === 0) fail('nodes', 'the list is empty');

  const nodes: InventoryNode[] = [];
  const byName = new Map<string, number>();
  const byAddress = new Map<string, number>();
  for (const [index, entry] of (doc.nodes as unknown[]).entries()) {
    const where = `nodes[${index}]`;
    if (!isObject(entry)) return fail(where, 'must be a mapping with name and address');
    unknownKeys(entry, ['name', 'address', 'podCIDR', 'ssh'], where);
    const { name, address, podCIDR } = entry;
    if (name === undefined) fail(`${where}.name`, 'is required');
    if (typeof name !== 'string' || name.length > 253 || !NODE_NAME.test(name))
      fail(
        `${where}.name`,
        `${JSON.stringify(name)} is not a valid node name`,
        'node names are lowercase DNS subdomains (letters, digits, "-" and ".")',
      );
    if (address === undefined) fail(`${where}.address`, 'is required');
    checkAddress(address, `${where}.address`);
    if (podCIDR !== undefined && (typeof podCIDR !== 'string' || !tryParseCidr(podCIDR)))
      fail(`${where}.podCIDR`, `${JSON.stringify(podCIDR)} is not a CIDR`, 'e.g. podCIDR: 10.244.1.0/24');
    const ssh = sshOf(entry.ssh, `${where}.ssh`, true);
    const nodeName = name as string;
    const nodeAddress = (address as string).toLowerCase();
    const sameName = byName.get(nodeName);
    if (sameName !== undefined)
      fail(
        `${where}.name`,
        `${JSON.stringify(nodeName)} is already used by nodes[${sameName}]`,
        'each node appears once',
      );
    const sameAddress = byAddress.get(nodeAddress);
    if (sameAddress !== undefined)
      fail(
        `${where}.address`,
        `${JSON.stringify(address)} is already used by nodes[${sameAddress}]`,
        'each node has its own address',
      );
    byName.set(nodeName, index);
    byAddress.set(nodeAddress, index);
    nodes.push({
      name: nodeName,
      address: address as string,
      ...(podCIDR !== undefined ? { podCIDR: podCIDR as string } : {}),
      ...(ssh ? { ssh } : {}),
    });
  }
  return { file, ...(defaults ? { ssh: defaults } : {}), nodes };
};

// Same grammar as validateNodeTarget's node names (Kubernetes DNS-1123 subdomain).
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const loadInventory = async (file: string): Promise<Inventory> => {
  return parseInventory(readRegularFile(file, '--inventory'), file);
};
