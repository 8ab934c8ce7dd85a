import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeClient } from '../../src/kube/client.ts';
import { resolveNodeTargets, type NodeTargetFlags } from '../../src/nodes/resolve-targets.ts';

const dir = mkdtempSync(join(tmpdir(), 'flannelctl-resolve-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const flags = (extra: Partial<NodeTargetFlags> = {}): NodeTargetFlags => ({
  ssh: { identityFiles: [], acceptNew: false, insecureSkipHostKeyCheck: false, sudo: false },
  ...extra,
});

/** A KubeClient that only lists nodes, recording the selector; anything else is unexpected. */
const fakeKube = (selectors: (string | undefined)[]): KubeClient =>
  new Proxy({} as KubeClient, {
    get: (_target, prop) => {
      if (prop === 'list')
        return async (apiVersion: string, kind: string, options?: { labelSelector?: string }) => {
          assert.deepEqual([apiVersion, kind], ['v1', 'Node']);
          selectors.push(options?.labelSelector);
          return [
            {
              apiVersion: 'v1',
              kind: 'Node',
              metadata: { name: 'node-1' },
              status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] },
            },
          ];
        };
      if (prop === 'then') return undefined;
      throw new Error(`unexpected KubeClient.${String(prop)}`);
    },
  });

test('the -l selector goes to the API server; --ssh-user reaches the targets', async () => {
  const selectors: (string | undefined)[] = [];
  const selection = await resolveNodeTargets(
    flags({ selector: 'role=worker', ssh: { ...flags().ssh, user: 'ops' } }),
    fakeKube(selectors),
  );
  assert.deepEqual(selectors, ['role=worker']);
  assert.deepEqual(
    selection.nodes.map((n) => `${n.user}@${n.name} ${n.address}`),
    ['ops@node-1 10.0.0.1'],
  );
});

test('without a cluster an inventory is needed, and -l cannot be honoured', async () => {
  await assert.rejects(
    resolveNodeTargets(flags()),
    /no nodes to talk to: there is no cluster and no --inventory/,
  );
  const file = join(dir, 'nodes.yaml');
  writeFileSync(file, 'nodes: [{name: a, address: 10.0.0.1}]\n');
  await assert.rejects(
    resolveNodeTargets(flags({ inventoryFile: file, selector: 'x=y' })),
    /-l\/--selector needs the cluster API/,
  );
  const selection = await resolveNodeTargets(flags({ inventoryFile: file }));
  assert.deepEqual(
    selection.nodes.map((n) => n.name),
    ['a'],
  );
});

test('beside the API, inventory nodes the cluster does not know are reported', async () => {
  const file = join(dir, 'more.yaml');
  writeFileSync(file, 'nodes: [{name: node-1, address: 192.168.0.1}, {name: gone, address: 192.168.0.2}]\n');
  const selection = await resolveNodeTargets(flags({ inventoryFile: file }), fakeKube([]));
  assert.deepEqual(
    selection.nodes.map((n) => `${n.name} ${n.address}`),
    ['node-1 192.168.0.1'],
  );
  assert.deepEqual(selection.notInApi, ['gone']);
});
