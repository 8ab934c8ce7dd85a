// A node that joins while the DaemonSet rolls is noticed from the node list and reported with what
// happened to it (its flannel pod starts on the new backend; flannel route_network.go makes old-backend
// peers ignore it until they convert).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeClient } from '../../src/kube/client.ts';
import { describeJoined, NodeJoinWatch } from '../../src/migrate/join-watch.ts';
import { renderResultText, type MigrationResult } from '../../src/migrate/result.ts';

const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });

/** A KubeClient whose node list is whatever `nodes` holds when asked. */
const fakeKube = (nodes: { apiVersion: string; kind: string; metadata: { name: string } }[]) =>
  ({ list: async () => [...nodes] }) as unknown as KubeClient;

describe('NodeJoinWatch', () => {
  it('reports only nodes that were not there at the start, with when they appeared', async () => {
    const nodes = [node('node-1'), node('node-2')];
    const start = Date.now();
    const watch = new NodeJoinWatch(fakeKube(nodes), new Set(['node-1', 'node-2']), () => start, 10);
    watch.start();
    await new Promise((r) => setTimeout(r, 30));
    nodes.push(node('node-3'));
    await new Promise((r) => setTimeout(r, 50));
    const { joined } = await watch.stop();
    assert.deepEqual(
      joined.map((j) => j.node),
      ['node-3'],
    );
    assert.ok(joined[0]!.seenAfterSeconds >= 0 && joined[0]!.seenAfterSeconds < 5);
  });

  it('still sees a node added just before the end (one last list on stop)', async () => {
    const nodes = [node('node-1')];
    const watch = new NodeJoinWatch(fakeKube(nodes), new Set(['node-1']), () => Date.now(), 60_000);
    watch.start();
    nodes.push(node('node-9'));
    assert.deepEqual(
      (await watch.stop()).joined.map((j) => j.node),
      ['node-9'],
    );
  });
});

describe('joined nodes in the result', () => {
  it('says what happened and prints one line per joined node', () => {
    assert.match(
      describeJoined('host-gw', 'host-gw'),
      /started on host-gw; peers still on the old backend ignored it/,
    );
    assert.match(describeJoined(null, 'host-gw'), /backend-type is missing, not host-gw/);
    const text = renderResultText({
      message: 'Migrated vxlan -> host-gw.',
      outcome: 'migrated',
      nodes: [],
      joined: [
        {
          node: 'node-5',
          seenAfterSeconds: 3.2,
          backendType: 'host-gw',
          verification: 'verified',
          message: describeJoined('host-gw', 'host-gw'),
        },
      ],
    } as unknown as MigrationResult);
    assert.match(
      text,
      /Joined during the rollout:\n {2}node-5 {2}\+3\.2s {2}host-gw verified: joined during the rollout: its flannel pod read the new ConfigMap/,
    );
  });
});
