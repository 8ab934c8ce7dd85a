import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InterruptedError, UsageError } from '../../src/errors.ts';
import { gatherNodeFacts, type GatherProgress } from '../../src/facts/gather.ts';
import {
  NodeAccessError,
  type ExecResult,
  type NodeExec,
  type NodeTarget,
  type RunOptions,
} from '../../src/nodes/exec.ts';

type Behaviour = (node: NodeTarget, script: string, opts: RunOptions) => Promise<ExecResult> | ExecResult;

/** Answers like a node would: the sections the probe asks for, marked with the script's own nonce. */
const answer = (node: NodeTarget, script: string): ExecResult => {
  const nonce = /^N=([0-9a-f]+)$/m.exec(script)![1]!;
  const section = (name: string, body: string, code = 0) =>
    `@@${nonce} BEGIN ${name}\n${body}\n@@${nonce} END ${name} ${code}\n`;
  const peers = /^s \$G g (.+)$/m.exec(script)?.[1]?.split(' ') ?? [];
  return {
    stdout: [
      section('hostname', node.name),
      section('kernel', '6.1.0-test'),
      section('uid', '0'),
      section(
        'route-get-json',
        peers
          .map((p) => {
            const json = JSON.stringify([{ dst: p, dev: 'eth0', prefsrc: node.address, flags: [] }]);
            return `@@${nonce} GET ${p}\n${json}\n@@${nonce} GOT ${p} 0\n`;
          })
          .join(''),
      ),
    ].join(''),
    stderr: '',
    exitCode: 0,
  };
};

class FakeExec implements NodeExec {
  readonly ran: string[] = [];
  closed = 0;
  active = 0;
  maxActive = 0;
  constructor(private readonly behaviours: Record<string, Behaviour> = {}) {}
  async run(node: NodeTarget, script: string, opts: RunOptions): Promise<ExecResult> {
    this.ran.push(node.name);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      await Promise.resolve();
      return await (this.behaviours[node.name] ?? answer)(node, script, opts);
    } finally {
      this.active--;
    }
  }
  async close(): Promise<void> {
    this.closed++;
  }
}

const targets = (count: number): NodeTarget[] =>
  Array.from({ length: count }, (_, i) => ({ name: `node-${i + 1}`, address: `192.168.77.${11 + i}` }));

test('each node is probed once with the other nodes as peers; an unreachable one does not stop the rest', async () => {
  const exec = new FakeExec({
    'node-2': (node) => {
      throw new NodeAccessError(
        'unreachable',
        node.name,
        'node-2 (192.168.77.12:22): cannot connect (ECONNREFUSED)',
        'check sshd',
      );
    },
  });
  const events: string[] = [];
  const results = await gatherNodeFacts(targets(3), exec, {
    timeoutMs: 5000,
    concurrency: 2,
    onProgress: (e: GatherProgress) => events.push(`${e.type} ${e.node}`),
  });
  assert.deepEqual(exec.ran.toSorted(), ['node-1', 'node-2', 'node-3']);
  assert.deepEqual(
    results.map((r) =>
      r.ok
        ? `${r.node}: ${r.facts.hostname} ${Object.keys(r.facts.routeGets).join(',')}`
        : `${r.node}: ${r.issue.kind}`,
    ),
    [
      'node-1: node-1 192.168.77.12,192.168.77.13',
      'node-2: unreachable',
      'node-3: node-3 192.168.77.11,192.168.77.12',
    ],
  );
  const failed = results[1]!;
  assert.ok(!failed.ok);
  assert.deepEqual(failed.issue, {
    node: 'node-2',
    kind: 'unreachable',
    message: 'node-2 (192.168.77.12:22): cannot connect (ECONNREFUSED)',
    hint: 'check sshd',
  });
  assert.equal(results[0]!.ok && results[0]!.facts.address, '192.168.77.11');
  for (const node of ['node-1', 'node-2', 'node-3']) assert.ok(events.includes(`started ${node}`), node);
  assert.ok(
    events.includes('done node-1') && events.includes('failed node-2') && events.includes('done node-3'),
  );
  assert.ok(events.indexOf('started node-2') < events.indexOf('failed node-2'));
  assert.equal(exec.closed, 0, 'the caller owns the adapter when nothing was interrupted');
});

test('no more nodes than --concurrency are probed at once', async () => {
  const exec = new FakeExec();
  const results = await gatherNodeFacts(targets(20), exec, { timeoutMs: 5000, concurrency: 3 });
  assert.equal(results.filter((r) => r.ok).length, 20);
  assert.equal(exec.maxActive, 3);
});

test('peersFor decides the peers, and a peer that is not an IP is refused before any connection', async () => {
  const exec = new FakeExec();
  const [r] = await gatherNodeFacts(targets(1), exec, {
    timeoutMs: 5000,
    concurrency: 1,
    peersFor: () => ['10.9.9.9'],
  });
  assert.deepEqual(r!.ok && Object.keys(r!.facts.routeGets), ['10.9.9.9']);
  await assert.rejects(
    gatherNodeFacts(targets(2), exec, {
      timeoutMs: 5000,
      concurrency: 1,
      peersFor: () => ['10.0.0.1; reboot'],
    }),
    (error: unknown) =>
      error instanceof UsageError && /peer address of node-1 "10\.0\.0\.1; reboot"/.test(error.message),
  );
  assert.equal(exec.ran.length, 1, 'nothing ran for the bad peers');
});

test('host-name addresses are not used as peers; a probe that printed nothing is reported', async () => {
  const exec = new FakeExec({
    'node-2': () => ({ stdout: '', stderr: 'This account is currently not available.\n', exitCode: 1 }),
  });
  const nodes: NodeTarget[] = [
    { name: 'node-1', address: 'node-1.example.com' },
    { name: 'node-2', address: '192.168.77.12' },
  ];
  const [one, two] = await gatherNodeFacts(nodes, exec, { timeoutMs: 5000, concurrency: 2 });
  assert.deepEqual(one!.ok && Object.keys(one!.facts.routeGets), ['192.168.77.12']);
  assert.ok(!two!.ok);
  assert.equal(two!.issue.kind, 'probe-failed');
  assert.match(
    two!.issue.message,
    /node-2 \(192\.168\.77\.12:22\): the probe printed no results \(exit 1: This account is currently not available\.\)/,
  );
});

test('a usage problem of the adapter (e.g. an encrypted key without passphrase) ends the gather', async () => {
  const exec = new FakeExec({
    'node-1': () => {
      throw new UsageError('identity file /k is encrypted and no passphrase was given');
    },
  });
  await assert.rejects(
    gatherNodeFacts(targets(2), exec, { timeoutMs: 5000, concurrency: 2 }),
    /is encrypted/,
  );
});

test('Ctrl-C stops running probes, starts no new node, closes connections and ends interrupted', async () => {
  const controller = new AbortController();
  // Both running probes hang until Ctrl-C, which comes once the second one has started.
  const hang: Behaviour = (node, _script, opts) =>
    new Promise((_resolve, reject) => {
      if (opts.signal!.aborted) reject(new InterruptedError());
      opts.signal!.addEventListener('abort', () => reject(new InterruptedError()), { once: true });
      if (node.name === 'node-2') controller.abort();
    });
  const exec: FakeExec = new FakeExec({ 'node-1': hang, 'node-2': hang, 'node-3': hang, 'node-4': hang });
  const events: string[] = [];
  await assert.rejects(
    gatherNodeFacts(targets(4), exec, {
      timeoutMs: 5000,
      concurrency: 2,
      signal: controller.signal,
      onProgress: (e) => events.push(`${e.type} ${e.node}`),
    }),
    InterruptedError,
  );
  assert.deepEqual(exec.ran, ['node-1', 'node-2'], 'queued nodes never start');
  assert.equal(exec.closed, 1);
  assert.deepEqual(events, ['started node-1', 'started node-2']);
  await assert.rejects(
    gatherNodeFacts(targets(1), exec, { timeoutMs: 5000, concurrency: 1, signal: controller.signal }),
    InterruptedError,
  );
});

test('dual stack: IPv6 peer addresses are probed too, only for nodes that have them', async () => {
  const exec = new FakeExec();
  const nodes = [
    { name: 'node-1', address: '192.168.77.11', peerAddressV6: 'fd00:77::11' },
    { name: 'node-2', address: '192.168.77.12', peerAddressV6: 'fd00:77::12' },
    { name: 'node-3', address: '192.168.77.13' },
  ];
  const results = await gatherNodeFacts(nodes, exec, { timeoutMs: 5000, concurrency: 3 });
  assert.deepEqual(
    results.map((r) => (r.ok ? `${r.node}: ${Object.keys(r.facts.routeGets).join(',')}` : r.node)),
    [
      'node-1: 192.168.77.12,fd00:77::12,192.168.77.13',
      'node-2: 192.168.77.11,fd00:77::11,192.168.77.13',
      'node-3: 192.168.77.11,fd00:77::11,192.168.77.12,fd00:77::12',
    ],
  );
});
