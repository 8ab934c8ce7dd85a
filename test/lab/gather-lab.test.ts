// Gathering facts from real nodes: network-namespace nodes with real OpenSSH, reached through the
// node-access flags, createNodeExec and gatherNodeFacts, with nodes taken from the API emulator or an
// inventory file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { labRequirement } from '../helpers/requirements.ts';
import { startSimCluster, type SimCluster } from '../helpers/sim.ts';
import { createLab } from '../../src/lab/lab.ts';
import { programHostGwAll } from '../../src/lab/backends.ts';
import type { Lab, LabNode } from '../../src/lab/types.ts';
import { addNodeAccessOptions, nodeAccessOptions } from '../../src/commands/node-access-flags.ts';
import { createNodeExec } from '../../src/nodes/create-exec.ts';
import { resolveNodeTargets } from '../../src/nodes/resolve-targets.ts';
import type { NodeExec, NodeTarget } from '../../src/nodes/exec.ts';
import { gatherNodeFacts, type NodeGatherResult } from '../../src/facts/gather.ts';
import { createClientNodeKube } from '../../src/kube/client-node.ts';
import type { Io } from '../../src/io.ts';

const skip = labRequirement();
let lab: Lab;
let sim: SimCluster | undefined;
const execs: NodeExec[] = [];

before(async () => {
  if (skip) return;
  lab = await createLab({ nodes: 3, remoteNodes: 1, podsPerNode: 1 });
  await programHostGwAll(lab.nodes);
  await lab.startPods();
});

after(async () => {
  await Promise.all(execs.map((e) => e.close()));
  await sim?.close();
  await lab?.destroy();
});

// No agent, no ~/.ssh: only the lab's key, known_hosts and an empty ssh config are used.
const io: Io = {
  stdout: new PassThrough(),
  stderr: new PassThrough(),
  stdin: new PassThrough(),
  env: {},
  isTTY: false,
};

/** The flags a user would type, parsed as a command would parse them. */
const access = (...args: string[]) => {
  const emptyConfig = join(lab.dir, 'empty-ssh-config');
  writeFileSync(emptyConfig, '');
  const command = addNodeAccessOptions(new Command('doctor')).exitOverride();
  command.parse(
    [
      '--ssh-user',
      'root',
      '--ssh-key',
      lab.ssh!.identityFile,
      '--ssh-known-hosts',
      lab.ssh!.knownHostsFile,
      '--ssh-config',
      emptyConfig,
      '--connect-timeout',
      '2s',
      '--command-timeout',
      '20s',
      ...args,
    ],
    { from: 'user' },
  );
  return nodeAccessOptions(command);
};

const gather = async (targets: readonly NodeTarget[], options: ReturnType<typeof access>) => {
  const exec = await createNodeExec(options, { io, yes: true });
  execs.push(exec);
  return gatherNodeFacts(targets, exec, {
    timeoutMs: options.commandTimeoutMs,
    concurrency: options.concurrency,
  });
};

const facts = (results: readonly NodeGatherResult[], name: string) => {
  const r = results.find((x) => x.node === name);
  assert.ok(r?.ok, `${name} gathered: ${r && !r.ok ? r.issue.message : 'missing'}`);
  return r.facts;
};

/** Each node's facts are its own: hostname, eth0 address, cni0 route and routes to the peers' pods. */
const assertOwnFacts = (results: readonly NodeGatherResult[], nodes: readonly LabNode[]): void => {
  for (const node of nodes) {
    const f = facts(results, node.name);
    assert.equal(f.hostname, node.name);
    assert.equal(f.uid, 0);
    assert.ok(
      f.addresses?.some((a) => a.ifname === 'eth0' && a.local === node.address),
      `${node.name} eth0 address`,
    );
    assert.ok(
      f.routes?.some((r) => r.dst === node.podCidr && r.dev === 'cni0'),
      `${node.name} own cni0 route`,
    );
    assert.equal(
      f.subnetEnv !== null && f.subnetEnv !== 'missing' && f.subnetEnv.subnet,
      `${node.gateway}/24`,
    );
  }
};

test(
  '3 nodes and one behind a router are gathered over real SSH; a dead address is reported unreachable',
  { skip },
  async () => {
    const options = access('--concurrency', '2');
    const targets: NodeTarget[] = [
      ...lab.nodes.map((n) => ({ name: n.name, address: n.address })),
      { name: 'node-9', address: lab.nodes[0]!.address.replace(/\.\d+$/, '.99') },
      { name: 'node-1-closed', address: lab.nodes[0]!.address, port: 2222 },
    ];
    const results = await gather(targets, options);
    assert.deepEqual(
      results.map((r) => `${r.node} ${r.ok ? 'ok' : r.issue.kind}`),
      [...lab.nodes.map((n) => `${n.name} ok`), 'node-9 unreachable', 'node-1-closed unreachable'],
    );
    const closed = results.at(-1)!;
    assert.ok(!closed.ok && /ECONNREFUSED/.test(closed.issue.message) && closed.issue.hint);
    assertOwnFacts(results, lab.nodes);

    // flannel's L2 test as each node sees it: an L2 peer is reached directly, the remote one via the router.
    const [n1, n2] = lab.nodes.filter((n) => !n.remote);
    const remote = lab.nodes.find((n) => n.remote)!;
    const f1 = facts(results, n1!.name);
    const direct = f1.routeGets[n2!.address]!;
    assert.ok(direct.ok && direct.gateway === null && direct.dev === 'eth0');
    const routed = f1.routeGets[remote.address]!;
    assert.ok(routed.ok && routed.gateway !== null, 'the remote node is behind a gateway');
    assert.ok(!(n1!.address in f1.routeGets), 'a node is not its own peer');
    assert.ok(
      f1.routes?.some((r) => r.dst === n2!.podCidr && r.gateway === n2!.address),
      'node-1 holds the host-gw route to node-2 pods',
    );
  },
);

test(
  'nodes from the API: public-ip annotations point at the nodes, -l is applied by the server',
  { skip },
  async () => {
    sim = await startSimCluster({
      nodes: lab.nodes.map((n) => ({
        name: n.name,
        // InternalIP is not reachable from here: only the annotation leads to the node.
        internalIP: `10.255.0.${n.index}`,
        podCIDR: n.podCidr,
        labels: { 'lab/remote': String(n.remote) },
        annotations: { 'flannel.alpha.coreos.com/public-ip': n.address },
      })),
    });
    const kube = createClientNodeKube({ kubeconfig: sim.kubeconfig }, {});
    const options = access();
    const selection = await resolveNodeTargets(options, kube);
    assert.deepEqual(
      selection.nodes.map((n) => `${n.name} ${n.address} ${n.addressSource} ${n.podCIDRs.join(',')}`),
      lab.nodes.map((n) => `${n.name} ${n.address} public-ip-annotation ${n.podCidr}`),
    );
    const results = await gather(selection.nodes, options);
    assertOwnFacts(results, lab.nodes);

    const local = await resolveNodeTargets(access('-l', 'lab/remote=false'), kube);
    assert.deepEqual(
      local.nodes.map((n) => n.name),
      lab.nodes.filter((n) => !n.remote).map((n) => n.name),
    );
    // The InternalIP leads nowhere: every node is reported, none is silently dropped.
    const internal = access('--node-address', 'internal-ip', '--nodes', 'node-1,node-2');
    const unreachable = await gather((await resolveNodeTargets(internal, kube)).nodes, internal);
    assert.deepEqual(
      unreachable.map((r) => `${r.node} ${r.ok ? 'ok' : r.issue.kind}`),
      ['node-1 unreachable', 'node-2 unreachable'],
    );
    await assert.rejects(
      resolveNodeTargets(access('--nodes', 'node-7'), kube),
      /--nodes: no node named node-7 in the cluster/,
    );
  },
);

test('inventory alone (no cluster): its addresses and podCIDRs are used', { skip }, async () => {
  const file = join(lab.dir, 'inventory.yaml');
  writeFileSync(
    file,
    `ssh: { user: root }\nnodes:\n${lab.nodes
      .map((n) => `  - { name: ${n.name}, address: ${n.address}, podCIDR: ${n.podCidr}, ssh: { port: 22 } }`)
      .join('\n')}\n`,
  );
  const options = access('--inventory', file, '--nodes', 'node-1,node-3');
  const selection = await resolveNodeTargets(options);
  assert.deepEqual(
    selection.nodes.map((n) => `${n.name} ${n.address} ${n.addressSource}`),
    ['node-1', 'node-3'].map((name) => `${name} ${lab.node(name).address} inventory`),
  );
  const results = await gather(selection.nodes, options);
  assertOwnFacts(
    results,
    ['node-1', 'node-3'].map((name) => lab.node(name)),
  );
  // Only the selected nodes are peers of each other.
  assert.deepEqual(Object.keys(facts(results, 'node-1').routeGets), [lab.node('node-3').address]);
});

test(
  'a node whose sshd is stopped is reported unreachable and the others are still gathered',
  { skip },
  async () => {
    const victim = lab.nodes.find((n) => !n.remote && n.name !== 'node-1')!;
    // Every sshd of that node (listener and sessions) is this lab's own process; stop them by pid.
    const pids = (await lab.exec(victim.netns, ['ip', 'netns', 'pids', victim.netns])).stdout
      .split('\n')
      .filter(Boolean);
    const sshd = pids.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sshd';
      } catch {
        return false;
      }
    });
    assert.ok(sshd.length > 0, `an sshd runs in ${victim.netns}`);
    for (const pid of sshd) process.kill(Number(pid), 'SIGKILL');

    const options = access();
    const results = await gather(
      lab.nodes.map((n) => ({ name: n.name, address: n.address })),
      options,
    );
    const failed = results.find((r) => r.node === victim.name)!;
    assert.ok(!failed.ok);
    assert.equal(failed.issue.kind, 'unreachable', failed.issue.message);
    assertOwnFacts(
      results,
      lab.nodes.filter((n) => n !== victim),
    );
  },
);
