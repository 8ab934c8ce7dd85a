// A multi-node Flannel lab from network namespaces: a switch, nodes with eth0 + cni0, pods, an optional
// router to a second subnet, a management link from the root namespace, and a real sshd per node.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import type { NodeTarget } from '../nodes/exec.ts';
import { ipIn, run, sysctlIn, tryInNetns, inNetns, tryRun } from './command.ts';
import { cniAdd, cniDel, cniUnavailableReason, podAttachment } from './cni.ts';
import { names, newLabPrefix } from './naming.ts';
import { generateKey, sshdConfig, startSshd, waitForPort, writeLabFile, SSHD } from './sshd.ts';
import { allocateSubnet } from './subnet-lock.ts';
import { teardown, track, untrack, type LabResources } from './teardown.ts';
import type { Lab, LabNode, LabPod, LabSpec, LabSsh } from './types.ts';
import { existsSync } from 'node:fs';

/** "192.168.77.0/24", 11 → "192.168.77.11". */
export const hostIn = (subnet: string, host: number): string => {
  const [net, bits] = ipaddr.parseCIDR(subnet);
  if (net.kind() !== 'ipv4' || bits !== 24) throw new Error(`lab: subnet ${subnet} must be an IPv4 /24`);
  const octets = (net as ipaddr.IPv4).octets.slice(0, 3);
  return [...octets, host].join('.');
};

/** Why the lab cannot run here, or undefined when it can. */
export const labUnavailableReason = (): string | undefined => {
  if (process.platform !== 'linux') return 'the lab needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'the lab needs root (network namespaces)';
  if (!existsSync(SSHD)) return `the lab needs OpenSSH server (${SSHD}); apt-get install openssh-server`;
  return cniUnavailableReason();
};

const ownedBy = (
  spec: LabSpec,
): Required<Pick<LabSpec, 'nodes' | 'remoteNodes' | 'podsPerNode' | 'ssh' | 'defaultRoute'>> => {
  const nodes = spec.nodes ?? 3;
  const remoteNodes = spec.remoteNodes ?? 0;
  const podsPerNode = spec.podsPerNode ?? 1;
  if (!Number.isInteger(nodes) || nodes < 0 || nodes + remoteNodes < 1 || nodes + remoteNodes > 60) {
    throw new Error('lab: between 1 and 60 nodes');
  }
  if (!Number.isInteger(podsPerNode) || podsPerNode < 0 || podsPerNode > 9)
    throw new Error('lab: 0 to 9 pods per node');
  return { nodes, remoteNodes, podsPerNode, ssh: spec.ssh ?? true, defaultRoute: spec.defaultRoute ?? true };
};

export const createLab = async (spec: LabSpec = {}): Promise<Lab> => {
  const reason = labUnavailableReason();
  if (reason) throw new Error(reason);
  const counts = ownedBy(spec);
  const prefix = newLabPrefix();
  const n = names(prefix);
  const res: LabResources = { prefix, namespaces: [], pids: [], rootLinks: [], subnets: [] };
  track(res);
  try {
    res.dir = mkdtempSync(join(tmpdir(), `flannelctl-lab-${prefix}-`));
    const subnet = await allocateSubnet(prefix, spec.subnet);
    res.subnets.push(subnet);
    let remoteSubnet: string | undefined;
    if (counts.remoteNodes > 0) {
      remoteSubnet = await allocateSubnet(prefix, spec.remoteSubnet, [subnet]);
      res.subnets.push(remoteSubnet);
    }
    const addNs = async (ns: string): Promise<void> => {
      await run('ip', ['netns', 'add', ns]);
      res.namespaces.push(ns);
      await ipIn(ns, ['link', 'set', 'lo', 'up']);
    };
    const bridgeIn = async (ns: string, bridge: string): Promise<void> => {
      await addNs(ns);
      await ipIn(ns, ['link', 'add', bridge, 'type', 'bridge']);
      await ipIn(ns, ['link', 'set', bridge, 'up']);
    };
    /** A veth with one end (renamed) in `ns` and the other enslaved to a bridge in `bridgeNs`. */
    const plug = async (
      ns: string,
      tmpName: string,
      finalName: string,
      bridgeNs: string,
      port: string,
      bridge: string,
    ): Promise<void> => {
      await run('ip', [
        'link',
        'add',
        tmpName,
        'netns',
        ns,
        'type',
        'veth',
        'peer',
        'name',
        port,
        'netns',
        bridgeNs,
      ]);
      if (tmpName !== finalName) await ipIn(ns, ['link', 'set', tmpName, 'name', finalName]);
      await ipIn(bridgeNs, ['link', 'set', port, 'master', bridge, 'up']);
      await ipIn(ns, ['link', 'set', finalName, 'up']);
    };

    await bridgeIn(n.switchNs, n.bridge);
    // The management link: root namespace <-> switch, like an operator's workstation on the node network.
    const managementAddress = hostIn(subnet, 254);
    await run('ip', [
      'link',
      'add',
      n.mgmtRoot,
      'type',
      'veth',
      'peer',
      'name',
      n.mgmtSwitch,
      'netns',
      n.switchNs,
    ]);
    res.rootLinks.push(n.mgmtRoot);
    await ipIn(n.switchNs, ['link', 'set', n.mgmtSwitch, 'master', n.bridge, 'up']);
    await run('ip', ['addr', 'add', `${managementAddress}/24`, 'dev', n.mgmtRoot]);
    await run('ip', ['link', 'set', n.mgmtRoot, 'up']);

    const routerMain = hostIn(subnet, 253);
    const routerRemote = remoteSubnet ? hostIn(remoteSubnet, 254) : undefined;
    if (remoteSubnet && routerRemote) {
      await bridgeIn(n.switch2Ns, n.bridge2);
      await addNs(n.routerNs);
      await plug(n.routerNs, n.routerPort(0), 'eth0', n.switchNs, n.routerSwitchPort(0), n.bridge);
      await plug(n.routerNs, n.routerPort(1), 'eth1', n.switch2Ns, n.routerSwitchPort(1), n.bridge2);
      await ipIn(n.routerNs, ['addr', 'add', `${routerMain}/24`, 'dev', 'eth0']);
      await ipIn(n.routerNs, ['addr', 'add', `${routerRemote}/24`, 'dev', 'eth1']);
      await sysctlIn(n.routerNs, 'net.ipv4.ip_forward', 1);
      await run('ip', ['route', 'add', remoteSubnet, 'via', routerMain, 'dev', n.mgmtRoot]);
    }

    const total = counts.nodes + counts.remoteNodes;
    const nodes: LabNode[] = [];
    await Promise.all(
      Array.from({ length: total }, async (_, i) => {
        const index = i + 1;
        const remote = index > counts.nodes;
        const name = `node-${index}`;
        const netns = n.nodeNs(name);
        const nodeSubnet = remote ? remoteSubnet! : subnet;
        const address = hostIn(nodeSubnet, 10 + index);
        await addNs(netns);
        if (remote)
          await plug(netns, n.nodeUplink(index), 'eth0', n.switch2Ns, n.switchPort(index), n.bridge2);
        else await plug(netns, n.nodeUplink(index), 'eth0', n.switchNs, n.switchPort(index), n.bridge);
        await ipIn(netns, ['addr', 'add', `${address}/24`, 'dev', 'eth0']);
        // A default route like a real node's: flanneld without --iface/--public-ip picks the default
        // route's interface and exits without one (flannel pkg/ipmatch/match.go). Nobody holds .1, so
        // nothing leaves the lab.
        if (counts.defaultRoute)
          await ipIn(netns, ['route', 'add', 'default', 'via', hostIn(nodeSubnet, 1), 'dev', 'eth0']);
        await sysctlIn(netns, 'net.ipv4.ip_forward', 1);
        if (remoteSubnet) {
          // Only the two lab subnets are routed: nothing in the lab has a way out of it.
          const [other, via] = remote ? [subnet, routerRemote!] : [remoteSubnet, routerMain];
          await ipIn(netns, ['route', 'add', other, 'via', via, 'dev', 'eth0']);
        }
        const podCidr = `10.244.${index}.0/24`;
        const gateway = `10.244.${index}.1`;
        // No cni0 and no pods yet: the bridge plugin creates cni0 with the first pod (addPod), and that
        // needs the subnet.env flanneld writes.
        const pods: LabPod[] = [];
        const runDir = join(res.dir!, name, 'run');
        mkdirSync(runDir, { recursive: true });
        nodes[i] = {
          name,
          index,
          netns,
          address,
          subnet: nodeSubnet,
          remote,
          podCidr,
          gateway,
          pods,
          runDir,
        };
      }),
    );

    let ssh: LabSsh | undefined;
    if (counts.ssh) ssh = await startSshds(res, nodes);

    const byName = new Map(nodes.map((node) => [node.name, node]));
    const lab: Lab = {
      prefix,
      dir: res.dir,
      nodes,
      subnet,
      ...(remoteSubnet ? { remoteSubnet } : {}),
      managementAddress,
      ...(ssh ? { ssh } : {}),
      get namespaces() {
        return [...res.namespaces];
      },
      node(name) {
        const node = byName.get(name);
        if (!node) throw new Error(`lab: no node ${name}`);
        return node;
      },
      target(name): NodeTarget {
        return { name, address: this.node(name).address, port: 22, user: 'root' };
      },
      addPod: (nodeName, options) => addPod(res, byName, nodeName, options),
      deletePod: (pod) => deletePod(res, byName, pod),
      startPods: async (count = counts.podsPerNode) => {
        const created: LabPod[] = [];
        await Promise.all(
          nodes.map(async (node) => {
            for (let p = node.pods.length + 1; p <= count; p++)
              created.push(await addPod(res, byName, node.name));
          }),
        );
        return created;
      },
      exec: (netns, argv) => inNetns(netns, argv),
      tryExec: (netns, argv) => tryInNetns(netns, argv),
      destroy: async () => {
        try {
          await teardown(res);
        } finally {
          untrack(res);
        }
      },
    };
    return lab;
  } catch (error) {
    await teardown(res).catch(() => undefined);
    untrack(res);
    throw error;
  }
};

let podSerial = 0;

/** A pod sandbox on a node: its namespace, then CNI ADD through the node's conflist (src/lab/cni.ts). */
const addPod = async (
  res: LabResources,
  byName: ReadonlyMap<string, LabNode>,
  nodeName: string,
  options: { name?: string } = {},
): Promise<LabPod> => {
  const node = byName.get(nodeName);
  if (!node) throw new Error(`lab: no node ${nodeName}`);
  const pods = node.pods as LabPod[];
  const ordinal = pods.length + 1;
  const netns = `${res.prefix}-${node.name}-p${++podSerial}`;
  const name = options.name ?? `${node.name}-pod-${ordinal}`;
  await run('ip', ['netns', 'add', netns]);
  res.namespaces.push(netns);
  try {
    await ipIn(netns, ['link', 'set', 'lo', 'up']);
    const { address } = await cniAdd(node, podAttachment(netns));
    const pod: LabPod = { name, netns, node: node.name, address };
    pods.push(pod);
    return pod;
  } catch (error) {
    await tryRun('ip', ['netns', 'del', netns]);
    throw error;
  }
};

/** CNI DEL, then the namespace goes, as the runtime removes a sandbox. */
const deletePod = async (
  res: LabResources,
  byName: ReadonlyMap<string, LabNode>,
  pod: LabPod,
): Promise<void> => {
  const node = byName.get(pod.node);
  if (!node) throw new Error(`lab: no node ${pod.node}`);
  await cniDel(node, podAttachment(pod.netns));
  await tryRun('ip', ['netns', 'del', pod.netns]);
  const pods = node.pods as LabPod[];
  const at = pods.indexOf(pod);
  if (at >= 0) pods.splice(at, 1);
};

const startSshds = async (res: LabResources, nodes: readonly LabNode[]): Promise<LabSsh> => {
  const dir = res.dir!;
  const identityFile = join(dir, 'id_ed25519');
  const clientKey = await generateKey(identityFile, 'flannelctl-lab');
  const authorizedKeys = writeLabFile(dir, 'authorized_keys', `${clientKey}\n`, 0o644);
  const hostKeys: Record<string, string> = {};
  await Promise.all(
    nodes.map(async (node) => {
      const nodeDir = join(dir, node.name);
      const hostKey = join(nodeDir, 'ssh_host_ed25519_key');
      hostKeys[node.name] = await generateKey(hostKey, node.name);
      const config = writeLabFile(nodeDir, 'sshd_config', sshdConfig(hostKey, authorizedKeys), 0o644);
      const sshd = startSshd(node.netns, node.name, node.runDir, config, join(nodeDir, 'sshd.log'));
      res.pids.push(sshd.pid);
      let exited = false;
      sshd.child.once('exit', () => (exited = true));
      await waitForPort(node.address, 22, 10_000, () => exited);
    }),
  );
  const knownHostsFile = writeLabFile(
    dir,
    'known_hosts',
    nodes.map((node) => `${node.address} ${hostKeys[node.name]}\n`).join(''),
  );
  return { user: 'root', identityFile, knownHostsFile, hostKeys };
};

/** Runs fn with a fresh lab and always destroys it, whether fn succeeds or throws. */
export const withLab = async <T>(spec: LabSpec, fn: (lab: Lab) => Promise<T>): Promise<T> => {
  const lab = await createLab(spec);
  try {
    return await fn(lab);
  } finally {
    await lab.destroy();
  }
};
