// Dual stack on the real kernel: two lab nodes get IPv6 on eth0 (fd00:77::/64 ULA), cni0 and their
// pods, and the host-gw IPv6 routes flanneld programs (`{Dst: IPv6Subnet, Gw: PublicIPv6, LinkIndex:
// eth0}`, pkg/backend/hostgw/hostgw.go), by `ip -6 route`. Facts come over each node's real OpenSSH
// (gatherNodeFacts with the public-ipv6 peers), the API side is the nodes and ConfigMap a dual-stack
// flannel leaves. The routes check finds a deleted IPv6 route, its fix restores pod traffic, and the
// L2 check reads the kernel's own `ip -j route get <peer IPv6>`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { labRequirement } from '../helpers/requirements.ts';
import { createLab } from '../../src/lab/lab.ts';
import { programHostGwAll } from '../../src/lab/backends.ts';
import type { Lab, LabNode } from '../../src/lab/types.ts';
import { addNodeAccessOptions, nodeAccessOptions } from '../../src/commands/node-access-flags.ts';
import { createNodeExec } from '../../src/nodes/create-exec.ts';
import type { NodeExec } from '../../src/nodes/exec.ts';
import { gatherNodeFacts } from '../../src/facts/gather.ts';
import { buildClusterFacts } from '../../src/facts/cluster-facts.ts';
import { routesCheck } from '../../src/checks/routes.ts';
import { l2AdjacencyCheck } from '../../src/checks/l2-adjacency.ts';
import type { Finding } from '../../src/checks/types.ts';
import type { Io } from '../../src/io.ts';

const skip = labRequirement();
let lab: Lab;
let n1: LabNode, n2: LabNode;
let exec: NodeExec | undefined;

const ip6 = (node: LabNode): string => `fd00:77::${10 + node.index}`;
const cidr6 = (node: LabNode): string => `fd00:10:244:${node.index}::/64`;
const gateway6 = (node: LabNode): string => `fd00:10:244:${node.index}::1`;
const pod6 = (node: LabNode): string => `fd00:10:244:${node.index}::2`;

before(async () => {
  if (skip) return;
  lab = await createLab({ nodes: 2, podsPerNode: 1 });
  [n1, n2] = lab.nodes as [LabNode, LabNode];
  await programHostGwAll(lab.nodes);
  await lab.startPods();
  for (const node of lab.nodes) {
    const pod = node.pods[0]!.netns;
    // nodad: no duplicate address detection, so the addresses are usable at once (not "tentative").
    await lab.exec(node.netns, ['ip', '-6', 'addr', 'add', `${ip6(node)}/64`, 'dev', 'eth0', 'nodad']);
    await lab.exec(node.netns, ['ip', '-6', 'addr', 'add', `${gateway6(node)}/64`, 'dev', 'cni0', 'nodad']);
    await lab.exec(node.netns, ['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
    await lab.exec(pod, ['ip', '-6', 'addr', 'add', `${pod6(node)}/64`, 'dev', 'eth0', 'nodad']);
    await lab.exec(pod, ['ip', '-6', 'route', 'add', 'default', 'via', gateway6(node)]);
  }
  for (const node of lab.nodes)
    for (const peer of lab.nodes.filter((p) => p !== node))
      await lab.exec(node.netns, [
        'ip',
        '-6',
        'route',
        'replace',
        cidr6(peer),
        'via',
        ip6(peer),
        'dev',
        'eth0',
      ]);
});

after(async () => {
  await exec?.close();
  await lab?.destroy();
});

const io: Io = {
  stdout: new PassThrough(),
  stderr: new PassThrough(),
  stdin: new PassThrough(),
  env: {},
  isTTY: false,
};

/** The nodes a dual-stack flanneld leaves in the API (kube.go AcquireLease) and its ConfigMap. */
const api = () => ({
  namespace: 'kube-flannel',
  nodes: lab.nodes.map((node) => ({
    metadata: {
      name: node.name,
      annotations: {
        'flannel.alpha.coreos.com/backend-type': 'host-gw',
        'flannel.alpha.coreos.com/backend-data': 'null',
        'flannel.alpha.coreos.com/backend-v6-data': 'null',
        'flannel.alpha.coreos.com/public-ip': node.address,
        'flannel.alpha.coreos.com/public-ipv6': ip6(node),
        'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
      },
    },
    spec: { podCIDR: node.podCidr, podCIDRs: [node.podCidr, cidr6(node)] },
    status: { addresses: [{ type: 'InternalIP', address: node.address }] },
  })),
  configMap: {
    metadata: { name: 'kube-flannel-cfg', namespace: 'kube-flannel' },
    data: {
      'net-conf.json': JSON.stringify({
        Network: '10.244.0.0/16',
        EnableIPv6: true,
        IPv6Network: 'fd00:10:244::/56',
        Backend: { Type: 'host-gw' },
      }),
    },
  },
});

/** One probe per node over its sshd, peers = the other node's public IP and public IPv6. */
const evaluate = async (): Promise<{ routes: Finding[]; l2: Finding[] }> => {
  if (!exec) {
    const emptyConfig = join(lab.dir, 'empty-ssh-config');
    writeFileSync(emptyConfig, '');
    const command = addNodeAccessOptions(new Command('doctor')).exitOverride();
    command.parse(
      [
        ...['--ssh-user', 'root', '--ssh-key', lab.ssh!.identityFile],
        ...['--ssh-known-hosts', lab.ssh!.knownHostsFile, '--ssh-config', emptyConfig],
      ],
      { from: 'user' },
    );
    exec = await createNodeExec(nodeAccessOptions(command), { io, yes: true });
  }
  const targets = lab.nodes.map((node) => ({
    ...lab.target(node.name),
    peerAddress: node.address,
    peerAddressV6: ip6(node),
  }));
  const results = await gatherNodeFacts(targets, exec, { timeoutMs: 20_000, concurrency: 2 });
  for (const r of results) assert.ok(r.ok, `${r.node}: ${r.ok ? '' : r.issue.message}`);
  const facts = buildClusterFacts({ api: api(), nodes: results });
  return { routes: [...routesCheck.evaluate(facts)], l2: [...l2AdjacencyCheck.evaluate(facts)] };
};

const problems = (findings: readonly Finding[]) =>
  findings.filter((f) => f.severity !== 'pass').map((f) => `${f.severity} ${f.code} ${f.node}→${f.peer}`);

/** One IPv6 pod-to-pod ping; `tries` > 1 allows for neighbour discovery (and link-local DAD) on first use. */
const ping6 = async (from: LabNode, to: LabNode, tries = 1): Promise<boolean> => {
  for (let i = 0; i < tries; i++) {
    const argv = ['ping', '-6', '-c', '1', '-W', '1', pod6(to)];
    if ((await lab.tryExec(from.pods[0]!.netns, argv)).code === 0) return true;
  }
  return false;
};

test('dual-stack host-gw lab: IPv6 routes and L2 adjacency pass on the real kernel', { skip }, async () => {
  assert.ok(await ping6(n1, n2, 5), 'pod IPv6 traffic node-1 -> node-2 flows');
  const { routes, l2 } = await evaluate();
  assert.deepEqual(problems(routes), []);
  assert.deepEqual(problems(l2), []);
  assert.equal(
    routes.find((f) => f.node === n1.name)!.message,
    'node-1 has one correct host-gw route to each of 1 peers, and one IPv6 route to each of 1',
  );
  assert.equal(
    l2.find((f) => f.node === n1.name)!.message,
    'node-1 is L2-adjacent to 1 peers, and over IPv6 to 1',
  );
});

test(
  'a deleted IPv6 host-gw route is reported on its node and pair, and its fix restores traffic',
  { skip },
  async () => {
    await lab.exec(n1.netns, ['ip', '-6', 'route', 'del', cidr6(n2)]);
    assert.equal(await ping6(n1, n2), false, 'the fault is real: IPv6 pod traffic stops');
    const { routes, l2 } = await evaluate();
    assert.deepEqual(problems(routes), ['fail routes/missing node-1→node-2']);
    assert.deepEqual(problems(l2), [], 'the nodes are still L2-adjacent');
    const missing = routes.find((f) => f.code === 'routes/missing')!;
    assert.match(missing.message, /IPv6 podCIDR fd00:10:244:2::\/64/);
    // The remediation is a command for node-1: run it as written (up to the comment).
    const fix = missing.remediation!.split('  #')[0]!;
    assert.equal(fix, `ip -6 route replace ${cidr6(n2)} via ${ip6(n2)} dev eth0`);
    await lab.exec(n1.netns, fix.split(' '));
    assert.ok(await ping6(n1, n2, 5), 'the fix brings IPv6 pod traffic back');
    assert.deepEqual(problems((await evaluate()).routes), []);
  },
);
