// Fidelity: a virtual node configured like each recorded iproute2-6.1.0 fixture prints the same
// sections, byte for byte apart from live timers and netns names, and parses to the same NodeFacts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseProbeOutput } from '../../src/facts/node-facts.ts';
import { parsePing } from '../../src/facts/parse/ping.ts';
import { buildProbeScript } from '../../src/facts/probe-script.ts';
import { splitSections } from '../../src/facts/sections.ts';
import { createVirtualNode } from '../../src/sim/virtual-node/create-node.ts';
import { runScript } from '../../src/sim/virtual-node/shell.ts';
import { FIXTURE_NONCE, PROBE_FIXTURES } from '../helpers/probe-fixtures.ts';
import { fixtureNodes } from '../helpers/virtual-fixture-nodes.ts';

// Bridge timers tick and netns names are per recording run; nothing else may differ.
const normalise = (text: string): string =>
  text
    .replace(/("?(?:gc_timer|forward_delay_timer)"?[: ]\s*)[\d.]+/g, '$1T')
    .replace(/link-netns(?:id)? \S+/g, 'link-netns NS');

const POD_NETNS = 'pod-netns';

for (const [name, make] of Object.entries(fixtureNodes)) {
  const recorded = readFileSync(join(PROBE_FIXTURES, 'iproute2-6.1.0', `${name}.txt`), 'utf8');

  test(`virtual ${name}: every probe section matches the recording`, () => {
    const { node, options } = make();
    const virtual = splitSections(runScript(node, buildProbeScript(options)).stdout, FIXTURE_NONCE);
    const real = splitSections(recorded, FIXTURE_NONCE);
    // These recordings predate the pod-netns section; virtual nodes model no pod namespaces (empty).
    assert.equal(virtual.get(POD_NETNS)?.body.trim(), '');
    virtual.delete(POD_NETNS);
    assert.deepEqual([...virtual.keys()], [...real.keys()], 'same sections in the same order');
    for (const [section, want] of real) {
      const got = virtual.get(section)!;
      assert.equal(got.exitCode, want.exitCode, `${section} exit code`);
      assert.equal(normalise(got.body), normalise(want.body), `${section} body`);
    }
  });

  test(`virtual ${name}: parseProbeOutput gives the recorded NodeFacts`, () => {
    const { node, options } = make();
    const { podInterfaces, ...virtual } = parseProbeOutput(
      'node-1',
      runScript(node, buildProbeScript(options)).stdout,
      FIXTURE_NONCE,
    );
    assert.deepEqual(podInterfaces, []);
    assert.deepEqual(virtual, parseProbeOutput('node-1', recorded, FIXTURE_NONCE));
  });
}

const pingFixture = (file: string) =>
  JSON.parse(
    readFileSync(join(PROBE_FIXTURES, '..', 'ping', 'iputils-20221126', `${file}.expected.json`), 'utf8'),
  ) as Record<string, unknown>;
const withoutTimes = (r: Record<string, unknown>) => ({ ...r, rtt: r.rtt === null ? null : 'rtt' });

test('ping answers parse like the recorded iputils runs', () => {
  const node = createVirtualNode({ name: 'n1', address: '10.77.1.2', podCIDR: '10.244.1.0/24' });
  node.routeAdd({ dst: '10.77.2.0/24', gateway: '10.77.1.1', dev: 'eth0', mtu: 1400 });
  const ping = (args: string): Record<string, unknown> => {
    const r = runScript(node, `ping ${args}\n`);
    return parsePing(`${r.stdout}${r.stderr}`) as unknown as Record<string, unknown>;
  };
  assert.deepEqual(withoutTimes(ping('-c 3 -W 1 10.77.2.2')), withoutTimes(pingFixture('ok')));
  assert.deepEqual(
    withoutTimes(ping('-c 2 -W 1 -M do -s 1372 10.77.2.2')),
    withoutTimes(pingFixture('df-pass')),
  );
  assert.deepEqual(ping('-c 2 -W 1 -M do -s 1473 10.77.2.2'), pingFixture('df-message-too-long'));
  node.answersPing = (dst) => dst !== '10.77.2.99';
  assert.deepEqual(ping('-c 2 -W 1 10.77.2.99'), pingFixture('no-reply'));
});

test('ping output has the iputils layout', () => {
  const node = createVirtualNode({ name: 'n1', address: '10.77.1.2', podCIDR: '10.244.1.0/24' });
  const r = runScript(node, 'ping -c 2 -W 1 10.77.1.9\n');
  assert.equal(r.code, 0);
  assert.match(
    r.stdout,
    /^PING 10\.77\.1\.9 \(10\.77\.1\.9\) 56\(84\) bytes of data\.\n64 bytes from 10\.77\.1\.9: icmp_seq=1 ttl=64 time=\d\.\d{3} ms\n64 bytes from 10\.77\.1\.9: icmp_seq=2 ttl=64 time=\d\.\d{3} ms\n\n--- 10\.77\.1\.9 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss, time \d+ms\nrtt min\/avg\/max\/mdev = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms\n$/,
  );
  node.routeDel({ dst: 'default' });
  const none = runScript(node, 'ping -c 1 -W 1 172.31.0.1\n');
  assert.deepEqual([none.code, none.stderr], [2, 'ping: connect: Network is unreachable\n']);
});
