// Many virtual nodes in one process, each behind its own SSH server, with the files the SSH adapter
// needs (client identity, known_hosts) in a temp dir, and faults: stopped, re-keyed and hung nodes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIp, tryParseCidr, contains, type Cidr } from '../../flannel/cidr.ts';
import type { NodeTarget } from '../../nodes/exec.ts';
import type { SshExecOptions } from '../../nodes/ssh.ts';
import { createVirtualNode, type VirtualNodeOptions } from './create-node.ts';
import type { PingPacket, VirtualNode } from './model.ts';
import { deliverPing } from './ping-path.ts';
import { VirtualNodeServer, generateEd25519 } from './server.ts';

export interface VirtualFleetOptions {
  /** How many default nodes (node-1 … node-N), or each node's options. */
  readonly nodes: number | readonly VirtualNodeOptions[];
  /** For default nodes: flannel state to start with. */
  readonly backend?: 'host-gw' | 'vxlan';
  /** How many servers start at once. Default 64. */
  readonly startConcurrency?: number;
}

export interface VirtualFleet {
  readonly nodes: readonly VirtualNode[];
  /** Temp dir holding the files below; removed by close(). */
  readonly dir: string;
  readonly knownHostsFile: string;
  readonly identityFile: string;
  node(name: string): VirtualNode;
  /** Where the SSH adapter reaches the node: 127.0.0.1 and the node's port, as root. */
  target(name: string): NodeTarget;
  targets(): NodeTarget[];
  /** createSshExec options that trust exactly this fleet (no agent, no ssh config). */
  sshOptions(): SshExecOptions;
  /** The node refuses connections until start(name). */
  stop(name: string): Promise<void>;
  start(name: string): Promise<void>;
  /** New host key on the same port; known_hosts keeps the old one. */
  rotateHostKey(name: string): Promise<void>;
  /** Scripts are accepted but never answered while on. */
  hang(name: string, on?: boolean): void;
  close(): Promise<void>;
}

/**
 * node-i: up to 240 nodes on 192.168.77.0/24 with pod CIDRs 10.244.i.0/24 (like the lab and the
 * fixtures); beyond that on 172.20.0.0/16 with pod CIDRs carved from 10.240.0.0/12.
 */
export const defaultNodeOptions = (count: number, backend?: 'host-gw' | 'vxlan'): VirtualNodeOptions[] =>
  Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    const small = count <= 240;
    const host = 10 + n;
    return {
      name: `node-${n}`,
      address: small ? `192.168.77.${host}` : `172.20.${host >> 8}.${host & 255}`,
      prefixLen: small ? 24 : 16,
      podCIDR: small ? `10.244.${n}.0/24` : `10.${240 + (n >> 8)}.${n & 255}.0/24`,
      clusterCIDR: small ? '10.244.0.0/16' : '10.240.0.0/12',
      ...(backend ? { backend } : {}),
    };
  });

const inBatches = async <T>(
  items: readonly T[],
  size: number,
  fn: (item: T) => Promise<void>,
): Promise<void> => {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
};

export const startVirtualFleet = async (options: VirtualFleetOptions): Promise<VirtualFleet> => {
  const specs =
    typeof options.nodes === 'number' ? defaultNodeOptions(options.nodes, options.backend) : options.nodes;
  const dir = mkdtempSync(join(tmpdir(), 'flannelctl-fleet-'));
  const client = generateEd25519('flannelctl-virtual-fleet');
  const identityFile = join(dir, 'id_ed25519');
  writeFileSync(identityFile, client.private, { mode: 0o600 });
  const servers = new Map<string, VirtualNodeServer>();
  const nodes = specs.map((spec) => createVirtualNode(spec));

  // A ping is answered when its destination is a node address or inside a node's pod CIDR, and the
  // packet fits the path (see ping-path.ts).
  const podCidrs: Cidr[] = specs.map((s) => tryParseCidr(s.podCIDR)!);
  const answers = (dst: string, packet?: PingPacket): boolean => {
    if (packet) return deliverPing({ nodes, podCidrs }, dst, packet);
    const ip = parseIp(dst);
    if (!ip) return false;
    return (
      nodes.some((n) => n.addresses.some((a) => a.local === ip.text)) || podCidrs.some((c) => contains(c, ip))
    );
  };
  for (const node of nodes) node.answersPing = answers;

  const closeAll = async (): Promise<void> => {
    await Promise.all([...servers.values()].map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await inBatches(nodes, options.startConcurrency ?? 64, async (node) => {
      const server = new VirtualNodeServer({ node, authorizedKey: client.public });
      servers.set(node.hostname, server);
      await server.start();
    });
  } catch (error) {
    await closeAll();
    throw error;
  }
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, nodes.map((n) => `${servers.get(n.hostname)!.knownHostsLine()}\n`).join(''));

  const server = (name: string): VirtualNodeServer => {
    const s = servers.get(name);
    if (!s) throw new Error(`virtual fleet: no node ${name}`);
    return s;
  };
  const byName = new Map(nodes.map((n) => [n.hostname, n]));
  const target = (name: string): NodeTarget => ({
    name,
    address: '127.0.0.1',
    port: server(name).port,
    user: 'root',
  });
  return {
    nodes,
    dir,
    knownHostsFile,
    identityFile,
    node: (name) => byName.get(name) ?? server(name).node,
    target,
    targets: () => nodes.map((n) => target(n.hostname)),
    sshOptions: () => ({
      user: 'root',
      identityFiles: [identityFile],
      knownHostsFile,
      sshConfigFile: false,
      agentSocket: false,
    }),
    stop: (name) => server(name).stop(),
    start: (name) => server(name).start(),
    rotateHostKey: (name) => server(name).rotateHostKey(),
    hang: (name, on = true) => server(name).hang(on),
    close: closeAll,
  };
};
