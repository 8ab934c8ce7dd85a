// After vxlan -> host-gw, migrate --cleanup lists the pods still on old veths. On the node recorded on
// the real kernel (old pod 10.244.1.2 at 1450, new pod 10.244.1.3 at 1500, cni0 at 1450) the probe ties
// each veth to its pod's IP, so the list is exact; the advice never pins cni0's MTU.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/kube-object.ts';
import { staleMtuNodes, staleOwners } from '../../src/migrate/cleanup.ts';
import { renderResultText, type MigrationResult } from '../../src/migrate/result.ts';
import { editNode, healthyCluster, loadProbeFacts } from '../helpers/cluster-facts-fixtures.ts';

const recorded = loadProbeFacts('iproute2-6.1.0/stale-pod-mtu');
const facts = editNode(healthyCluster('host-gw'), 'node-1', (f) => ({
  ...f,
  links: recorded.links,
  podInterfaces: recorded.podInterfaces,
}));

const pod = (name: string, ip: string, created: string): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', creationTimestamp: created },
    spec: { nodeName: 'node-1' },
    status: { podIP: ip },
  }) as KubeObject;

test('the pods to recreate are the ones on old veths, found by IP, whatever their start time', async () => {
  const nodes = staleMtuNodes(facts).filter((n) => n.node === 'node-1');
  assert.deepEqual(nodes, [
    {
      node: 'node-1',
      mtu: 1500,
      cni0Mtu: 1450,
      staleVeths: [{ name: 'vethpod1', mtu: 1450, podIp: '10.244.1.2' }],
    },
  ]);
  // Start times alone would pick the wrong pod: the old one here looks newer than the switch.
  const kube = {
    list: async () => [
      pod('old', '10.244.1.2', '2026-12-02T10:05:00Z'),
      pod('new', '10.244.1.3', '2026-12-02T09:00:00Z'),
    ],
    get: async () => undefined,
  } as unknown as KubeClient;
  const owners = await staleOwners(
    kube,
    nodes,
    new Map([['node-1', Date.parse('2026-12-02T10:00:00Z')]]),
    'kube-flannel',
  );
  assert.deepEqual(
    owners.map((o) => [o.owner, o.pods]),
    [['pod/old', ['old']]],
  );

  const text = renderResultText({
    message: 'Migrated vxlan -> host-gw',
    nodes: [],
    outcome: 'migrated',
    cleanup: { done: true, removed: [], staleMtu: nodes, staleOwners: owners },
  } as unknown as MigrationResult);
  assert.match(
    text,
    /cni0 MTU 1450 follows the smallest of them and changes by itself as they are recreated/,
  );
  assert.match(text, /TCP between old and new pods is unaffected/);
  assert.doesNotMatch(text, /stays until|ip link set/);
});
