// rp_filter on the real kernel: strict mode drops a packet only when the BEST route back to its source
// leaves through another device (linux net/ipv4/fib_frontend.c __fib_validate_source). A lab node with a
// backup default route via a second NIC still receives traffic from an address only its default routes
// reach, and the rp-filter check, on facts the real probe script gathered there, agrees: a warning, not
// an asymmetry. Make that second route the best one and the kernel drops the traffic, and the check fails.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { rpFilterCheck } from '../../src/checks/rp-filter.ts';
import { buildClusterFacts } from '../../src/facts/cluster-facts.ts';
import { parseProbeOutput } from '../../src/facts/node-facts.ts';
import { newProbeNonce } from '../../src/facts/probe-input.ts';
import { buildProbeScript } from '../../src/facts/probe-script.ts';
import { injectDefaultRoutes } from '../../src/lab/faults.ts';
import { createLab } from '../../src/lab/lab.ts';
import type { Lab, LabNode } from '../../src/lab/types.ts';
import { netnsRequirement } from '../helpers/requirements.ts';

const skip = netnsRequirement();
let lab: Lab;
let n1: LabNode, n2: LabNode;

before(async () => {
  if (skip) return;
  // No default route of the lab's own: the test sets both default routes itself.
  lab = await createLab({ nodes: 2, ssh: false, defaultRoute: false });
  [n1, n2] = lab.nodes as [LabNode, LabNode];
});
after(async () => {
  await lab?.destroy();
});

const PORT = 9999;

/** Sends UDP datagrams from `client` (root namespace) to the node; true when the node received one. */
const udpReaches = async (node: LabNode, client: string): Promise<boolean> => {
  const receiver = spawn(
    'ip',
    [
      'netns',
      'exec',
      node.netns,
      process.execPath,
      '-e',
      `const s = require('node:dgram').createSocket('udp4');
       s.on('message', () => { console.log('received'); process.exit(0); });
       s.bind(${PORT}, () => console.log('ready'));
       setTimeout(() => { console.log('nothing'); process.exit(0); }, 2000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  receiver.stdout.setEncoding('utf8');
  const ready = new Promise<void>((resolve) =>
    receiver.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('ready')) resolve();
    }),
  );
  await ready;
  const sender = createSocket('udp4');
  await new Promise<void>((resolve) => sender.bind(0, client, resolve));
  for (let i = 0; i < 3; i++) sender.send('x', PORT, node.address);
  await once(receiver, 'exit');
  sender.close();
  return out.includes('received');
};

/** The rp-filter findings for `node`, from facts the real probe script gathered in its namespace. */
const rpFilterFindings = (node: LabNode, peer: LabNode) => {
  const nonce = newProbeNonce();
  const script = buildProbeScript({ nonce, peers: [peer.address] });
  const res = spawnSync('ip', ['netns', 'exec', node.netns, 'sh', '-s'], { input: script, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const facts = buildClusterFacts({
    nodes: [
      { name: node.name, address: node.address, facts: parseProbeOutput(node.name, res.stdout, nonce) },
      { name: peer.name, address: peer.address, facts: null },
    ],
  });
  return rpFilterCheck.evaluate(facts).filter((f) => f.node === node.name);
};

test(
  'a backup default route via a second NIC: the kernel still delivers, and the check only warns',
  { skip },
  async () => {
    const fault = await injectDefaultRoutes(lab, n1, 200);
    try {
      assert.ok(await udpReaches(n1, fault.client), 'strict rp_filter accepts: eth0 carries the best route');
      const findings = rpFilterFindings(n1, n2);
      assert.deepEqual(
        findings.map((f) => `${f.severity} ${f.code}`),
        ['warn rp-filter/strict-symmetric'],
      );
      assert.ok(
        findings[0]!.evidence.some((e) =>
          /^backup default route, not used by the reverse-path lookup: default via \S+ dev eth1 metric 200/.test(
            e,
          ),
        ),
        findings[0]!.evidence.join('\n'),
      );
    } finally {
      await fault.undo();
    }
  },
);

test(
  'the same second default route with the better metric: the kernel drops, and the check fails',
  { skip },
  async () => {
    const fault = await injectDefaultRoutes(lab, n1, 50);
    try {
      assert.equal(
        await udpReaches(n1, fault.client),
        false,
        'strict rp_filter drops: the best route is eth1',
      );
      const findings = rpFilterFindings(n1, n2);
      assert.deepEqual(
        findings.map((f) => `${f.severity} ${f.code}`),
        ['fail rp-filter/strict-asymmetric'],
      );
      assert.ok(
        findings[0]!.evidence.some((e) => /^best default route leaves via eth1, flannel uses eth0/.test(e)),
      );
    } finally {
      await fault.undo();
    }
    // Undone: the node delivers again.
    const clean = await injectDefaultRoutes(lab, n1, 200);
    try {
      assert.ok(await udpReaches(n1, clean.client));
    } finally {
      await clean.undo();
    }
  },
);
