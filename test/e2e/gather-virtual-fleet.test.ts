// gatherNodeFacts over 200 virtual nodes (ssh2 servers in-process) through the real SSH adapter: every
// node probes every other as a peer; a stopped node and a hung one are reported, the rest gathered.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gatherNodeFacts, type GatherProgress } from '../../src/facts/gather.ts';
import { createSshExec } from '../../src/nodes/ssh.ts';
import {
  defaultNodeOptions,
  startVirtualFleet,
  type VirtualFleet,
} from '../../src/sim/virtual-node/fleet.ts';

const COUNT = 200;
const specs = defaultNodeOptions(COUNT, 'host-gw');
let fleet: VirtualFleet;

before(async () => {
  fleet = await startVirtualFleet({ nodes: specs });
});
after(async () => {
  await fleet?.close();
});

test(`${COUNT} virtual nodes gathered with all peers; a stopped and a hung node are reported`, async () => {
  await fleet.stop('node-7');
  fleet.hang('node-9');
  // Every node listens on 127.0.0.1; the address its peers route to is its eth0 address.
  const targets = specs.map((s) => ({ ...fleet.target(s.name), peerAddress: s.address }));
  const exec = createSshExec({ ...fleet.sshOptions(), concurrency: 32, connectTimeoutMs: 5000 });
  const events = new Map<string, string[]>();
  try {
    const results = await gatherNodeFacts(targets, exec, {
      timeoutMs: 3000,
      concurrency: 32,
      onProgress: (e: GatherProgress) => events.set(e.node, [...(events.get(e.node) ?? []), e.type]),
    });
    assert.equal(results.length, COUNT);
    for (const [i, r] of results.entries()) {
      const spec = specs[i]!;
      assert.equal(r.node, spec.name);
      if (spec.name === 'node-7' || spec.name === 'node-9') {
        assert.ok(!r.ok, spec.name);
        assert.equal(r.issue.kind, spec.name === 'node-7' ? 'unreachable' : 'timeout', r.issue.message);
        assert.deepEqual(events.get(spec.name), ['started', 'failed']);
        continue;
      }
      assert.ok(r.ok, `${spec.name}: ${r.ok ? '' : r.issue.message}`);
      assert.equal(r.facts.hostname, spec.name);
      assert.equal(
        r.facts.subnetEnv !== 'missing' && r.facts.subnetEnv?.subnet,
        spec.podCIDR.replace('.0/24', '.1/24'),
      );
      const peers = Object.keys(r.facts.routeGets);
      assert.equal(peers.length, COUNT - 1, `${spec.name} probed every other node`);
      assert.ok(!peers.includes(spec.address));
      assert.ok(Object.values(r.facts.routeGets).every((g) => g.ok && g.gateway === null));
      assert.deepEqual(events.get(spec.name), ['started', 'done']);
    }
  } finally {
    await exec.close();
    fleet.hang('node-9', false);
  }
});
