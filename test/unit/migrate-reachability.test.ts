// Which pods migrate pings (from the API), and how one round of pings judges each node: pod level where
// pods answered, node level where a node has none (no cni0: bridge.go creates it with the first pod).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podTargetsByNode, type PodTarget } from '../../src/kube/pod-targets.ts';
import { podPingTargets, pingScript, parsePingReplies } from '../../src/migrate/connectivity.ts';
import { judgeReachability } from '../../src/migrate/reachability.ts';
import type { KubeObject } from '../../src/kube/kube-object.ts';

const NODES = ['node-1', 'node-2', 'node-3'].map((name, i) => ({ name, podCIDRs: [`10.244.${i + 1}.0/24`] }));

const pod = (name: string, node: string, ip: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', ...((extra.metadata as object) ?? {}) },
  spec: { nodeName: node, ...((extra.spec as object) ?? {}) },
  status: {
    phase: 'Running',
    podIP: ip,
    conditions: [{ type: 'Ready', status: 'True' }],
    ...((extra.status as object) ?? {}),
  },
});

test('pod targets: Running pod-network pods only, Ready first, inside the node podCIDR', () => {
  const targets = podTargetsByNode(
    [
      pod('web', 'node-1', '10.244.1.5'),
      pod('early', 'node-1', '10.244.1.4', { status: { conditions: [] } }),
      pod('flannel', 'node-2', '192.168.77.12', { spec: { hostNetwork: true } }),
      pod('pending', 'node-2', '10.244.2.7', { status: { phase: 'Pending' } }),
      pod('gone', 'node-2', '10.244.2.8', { metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } }),
      pod('elsewhere', 'node-2', '10.99.0.5'),
      pod('injected', 'node-2', '10.244.2.9; reboot'),
      pod('v6', 'node-2', 'fd00::5'),
      pod('db', 'node-2', '10.244.2.3'),
    ] as never,
    NODES,
  );
  assert.deepEqual(
    [...targets]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([node, list]) => [node, list.map((t) => t.name)]),
    [
      ['node-1', ['web', 'early']],
      ['node-2', ['db']],
    ],
  );
  assert.equal(targets.has('node-3'), false, 'a node without pods has no target');
});

const target = (node: string, ip: string, name = `p-${ip}`): PodTarget => ({
  namespace: 'default',
  name,
  node,
  ip,
});

test('a pod-less node is verified at node level; nodes whose pods answered at pod level', () => {
  const pods = new Map([
    ['node-1', [target('node-1', '10.244.1.2')]],
    ['node-2', [target('node-2', '10.244.2.2')]],
  ]);
  const targets = podPingTargets(
    NODES.map((n) => ({ name: n.name, address: '' })),
    pods,
  );
  assert.deepEqual(
    targets.map((t) => [t.node.name, t.peers.map((p) => p.address)]),
    [
      ['node-1', ['10.244.2.2']],
      ['node-2', ['10.244.1.2']],
      ['node-3', ['10.244.1.2', '10.244.2.2']],
    ],
    'nobody pings node-3: there is nothing there to reach',
  );
  const all = (addresses: string[]) => new Map(addresses.map((a) => [a, 3]));
  const verdict = judgeReachability(
    NODES.map((n) => n.name),
    pods,
    targets,
    [
      { node: 'node-1', replies: all(['10.244.2.2']) },
      { node: 'node-2', replies: all(['10.244.1.2']) },
      { node: 'node-3', replies: all(['10.244.1.2', '10.244.2.2']) },
    ],
  );
  assert.deepEqual(verdict.failures, []);
  assert.deepEqual(
    [...verdict.nodes].map(([n, r]) => [n, r.level]),
    [
      ['node-1', 'verified'],
      ['node-2', 'verified'],
      ['node-3', 'node-level'],
    ],
  );
  assert.match(verdict.nodes.get('node-3')!.message, /no pods.*node level.*reached pods on node-1, node-2/);
});

test('no reply from any of a peer pods fails both ends of the pair; one answering pod is enough', () => {
  const pods = new Map([
    ['node-1', [target('node-1', '10.244.1.2')]],
    ['node-2', [target('node-2', '10.244.2.2', 'locked'), target('node-2', '10.244.2.3', 'open')]],
  ]);
  const targets = podPingTargets(
    NODES.map((n) => ({ name: n.name, address: '' })),
    pods,
  );
  const verdict = judgeReachability(
    NODES.map((n) => n.name),
    pods,
    targets,
    [
      // node-1 gets an answer from one of node-2's pods only (a NetworkPolicy on the other): fine.
      {
        node: 'node-1',
        replies: new Map([
          ['10.244.2.2', 0],
          ['10.244.2.3', 2],
        ]),
      },
      { node: 'node-2', replies: new Map([['10.244.1.2', 3]]) },
      // node-3 reaches nothing on node-2.
      {
        node: 'node-3',
        replies: new Map([
          ['10.244.1.2', 3],
          ['10.244.2.2', 0],
          ['10.244.2.3', 0],
        ]),
      },
    ],
  );
  assert.deepEqual(verdict.failures, [
    'node-3 -> node-2: no reply from its pods 10.244.2.2 (default/locked), 10.244.2.3 (default/open)',
  ]);
  assert.equal(verdict.nodes.get('node-1')!.level, 'verified');
  assert.equal(verdict.nodes.get('node-2')!.level, 'failed');
  assert.equal(verdict.nodes.get('node-3')!.level, 'failed');
});

test('the ping script pings pod IPs only after validating them; replies are read per address', () => {
  const peers = [{ name: 'node-2', address: '10.244.2.2', pod: 'default/web' }];
  assert.equal(pingScript(peers, 3), 'ping -n -c 3 -W 1 -i 0.2 10.244.2.2\n');
  assert.throws(() => pingScript([{ name: 'node-2', address: '10.244.2.2; reboot' }]), /IP/);
  const out =
    'PING 10.244.2.2 (10.244.2.2) 56(84) bytes of data.\n\n--- 10.244.2.2 ping statistics ---\n3 packets transmitted, 2 received, 33% packet loss, time 402ms\n';
  assert.deepEqual([...parsePingReplies(out, peers)], [['10.244.2.2', 2]]);
});
