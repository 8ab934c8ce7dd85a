// jc's model: every recorded (or clearly hand-made) fixture parses to its golden file, and the facts a
// check relies on are asserted explicitly so a wrong golden cannot hide a parser bug.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { NodeFacts, Route } from '../../src/facts/node-facts.ts';
import { parseProbeOutput } from '../../src/facts/node-facts.ts';
import { parseIperf3Json } from '../../src/facts/parse/iperf3.ts';
import { parsePing } from '../../src/facts/parse/ping.ts';
import { effectiveRpFilter } from '../../src/facts/parse/sysctl.ts';
import { FIXTURE_NONCE, listProbeFixtures, PROBE_FIXTURES } from '../helpers/probe-fixtures.ts';

const json = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
const facts = (id: string): NodeFacts =>
  parseProbeOutput('node-1', readFileSync(join(PROBE_FIXTURES, `${id}.txt`), 'utf8'), FIXTURE_NONCE, {
    address: '192.168.77.11',
  });
const route = (f: NodeFacts, dst: string): Route | undefined => f.routes?.find((r) => r.dst === dst);

const fixtures = listProbeFixtures();
test('there are recorded and hand-made probe fixtures', () => {
  const ids = fixtures.map((f) => f.id);
  for (const id of ['iproute2-6.1.0/host-gw', 'iproute2-6.1.0/vxlan', 'iproute2-6.1.0/rp-filter-multi-nic']) {
    assert.ok(ids.includes(id), id);
  }
  assert.ok(ids.some((id) => id.includes('handmade')));
});

for (const fixture of fixtures) {
  test(`probe fixture ${fixture.id} parses to its golden facts`, () => {
    const raw = readFileSync(fixture.raw, 'utf8');
    const parsed = parseProbeOutput('node-1', raw, FIXTURE_NONCE, { address: '192.168.77.11' });
    // Round-trip through JSON: facts must be JSON-serialisable without loss.
    assert.deepEqual(JSON.parse(JSON.stringify(parsed)), parsed);
    assert.deepEqual(parsed, json(fixture.expected));
  });
}

test('host-gw node: routes via peer node IPs on eth0, L2-adjacent peers, subnet.env MTU 1500', () => {
  for (const id of ['iproute2-6.1.0/host-gw', 'busybox-1.35.0/host-gw']) {
    const f = facts(id);
    const r = route(f, '10.244.2.0/24');
    assert.equal(r?.gateway, '192.168.77.12', id);
    assert.equal(r?.dev, 'eth0', id);
    assert.deepEqual(r?.flags, [], id);
    const adjacent = f.routeGets['192.168.77.12'];
    assert.ok(adjacent?.ok && adjacent.more === null && adjacent.gateway === null, id);
    const routed = f.routeGets['192.168.78.14'];
    assert.ok(routed?.ok && routed.gateway === '192.168.77.1', id);
    const unreachable = f.routeGets['2001:db8::14'];
    assert.ok(unreachable && !unreachable.ok && /unreachable/i.test(unreachable.error), id);
    assert.equal(f.subnetEnv !== 'missing' && f.subnetEnv?.mtu, 1500, id);
    assert.equal(f.links?.find((l) => l.name === 'vethpod1')?.master, 'cni0', id);
    assert.equal(f.sysctls?.ipForward, 1, id);
    assert.deepEqual(f.errors, [], id);
  }
  assert.equal(facts('busybox-1.35.0/host-gw').sources.routes, 'text');
  assert.equal(facts('busybox-1.35.0/host-gw').ipVersion?.implementation, 'busybox');
});

test('vxlan node: flannel.1 details, onlink routes, permanent neighbours and FDB entries', () => {
  for (const id of ['iproute2-6.1.0/vxlan', 'iproute2-ss180129-handmade/vxlan-text-only']) {
    const f = facts(id);
    const vtep = f.links?.find((l) => l.name === 'flannel.1');
    assert.equal(vtep?.kind, 'vxlan', id);
    assert.equal(vtep?.mtu, 1450, id);
    assert.deepEqual(vtep?.vxlan, {
      id: 1,
      local: '192.168.77.11',
      dev: 'eth0',
      port: 8472,
      learning: false,
      group: null,
      ttl: 0,
    });
    const r = route(f, '10.244.2.0/24');
    assert.equal(r?.gateway, '10.244.2.0', id);
    assert.equal(r?.dev, 'flannel.1', id);
    assert.deepEqual(r?.flags, ['onlink'], id);
    const n = f.neighbours?.find((x) => x.dst === '10.244.3.0');
    assert.deepEqual(n && { dev: n.dev, lladdr: n.lladdr, state: n.state }, {
      dev: 'flannel.1',
      lladdr: '0e:fc:00:00:00:13',
      state: ['PERMANENT'],
    });
    const fdb = f.fdb['flannel.1']?.find((e) => e.mac === '0e:fc:00:00:00:12');
    assert.equal(fdb?.dst, '192.168.77.12', id);
    assert.equal(fdb?.state, 'permanent', id);
    assert.equal(f.subnetEnv !== 'missing' && f.subnetEnv?.mtu, 1450, id);
  }
  const old = facts('iproute2-ss180129-handmade/vxlan-text-only');
  assert.equal(old.sources.routes, 'text');
  assert.equal(old.sources.links, 'json');
  assert.equal(old.ipVersion?.snapshot, 'ss180129');
  assert.ok(old.warnings.some((w) => w.startsWith('routes: used the text form')));
});

test("dual-stack host-gw node: IPv6 routes via the peers' public IPv6 on eth0 and IPv6 route gets", () => {
  const f = facts('iproute2-6.1.0/dual-stack-host-gw');
  const r = route(f, 'fd00:10:244:2::/64');
  assert.equal(r?.family, 'inet6');
  assert.equal(r?.gateway, 'fd00:77::12');
  assert.equal(r?.dev, 'eth0');
  assert.deepEqual(r?.flags, []);
  assert.equal(route(f, '10.244.2.0/24')?.gateway, '192.168.77.12');
  // ip route get for an on-link IPv6 peer: one route, no gateway (flannel's DirectRouting test).
  const adjacent = f.routeGets['fd00:77::12'];
  assert.ok(adjacent?.ok && adjacent.more === null && adjacent.gateway === null && adjacent.dev === 'eth0');
  const routed = f.routeGets['fd00:78::14'];
  assert.ok(routed?.ok && routed.gateway === 'fd00:77::1');
  assert.ok(f.subnetEnv !== 'missing' && f.subnetEnv?.ipv6Subnet === 'fd00:10:244:1::1/64');
  assert.deepEqual(f.errors, []);
});

test('dual-stack vxlan node: flannel-v6.1 onlink routes, IPv6 neighbours and fdb entries to public IPv6', () => {
  const f = facts('iproute2-6.1.0/dual-stack-vxlan');
  const r = route(f, 'fd00:10:244:2::/64');
  assert.equal(r?.gateway, 'fd00:10:244:2::');
  assert.equal(r?.dev, 'flannel-v6.1');
  assert.deepEqual(r?.flags, ['onlink']);
  const n = f.neighbours?.find((x) => x.dst === 'fd00:10:244:2::');
  assert.equal(n?.dev, 'flannel-v6.1');
  assert.equal(n?.lladdr, '0e:fc:00:00:06:12');
  assert.deepEqual(n?.state, ['PERMANENT']);
  assert.deepEqual(f.fdb['flannel-v6.1']?.map((e) => `${e.mac} ${e.dst}`).sort(), [
    '0e:fc:00:00:06:12 fd00:77::12',
    '0e:fc:00:00:06:13 fd00:77::13',
  ]);
  const dev = f.links?.find((l) => l.name === 'flannel-v6.1');
  assert.equal(dev?.vxlan?.local, 'fd00:77::11');
  // The kernel clamps a VXLAN device over IPv6 to underlay MTU - 70, whatever flanneld asked for.
  assert.equal(dev?.mtu, 1430);
  assert.deepEqual(f.errors, []);
});

test('multi-NIC node: strict rp_filter on eth1, route MTU, FORWARD DROP, no subnet.env or CNI config', () => {
  for (const id of [
    'iproute2-6.1.0/rp-filter-multi-nic',
    'iproute2-ss181023-handmade/rp-filter-invalid-route-json',
  ]) {
    const f = facts(id);
    const rp = f.sysctls?.rpFilter;
    assert.ok(rp, id);
    assert.equal(rp.all, 0);
    assert.equal(rp.interfaces.eth1, 1);
    assert.equal(rp.interfaces.eth0, 2);
    assert.equal(effectiveRpFilter(rp, 'eth1'), 1);
    assert.equal(route(f, '10.244.2.0/24')?.mtu, 1400, id);
    assert.equal(f.subnetEnv, 'missing', id);
    assert.equal(f.cniConfFiles, 'missing', id);
    assert.equal(f.iptables !== 'not-installed' && f.iptables?.forwardPolicy, 'DROP', id);
    assert.equal(f.sysctls?.routeMaxSize !== null, true);
  }
  assert.equal(facts('iproute2-ss181023-handmade/rp-filter-invalid-route-json').sources.routes, 'text');
});

test('node after vxlan -> host-gw: cni0 kept at its smallest port, each veth tied to its pod through its netns', () => {
  const f = facts('iproute2-6.1.0/stale-pod-mtu');
  const link = (name: string) => f.links?.find((l) => l.name === name);
  // Recorded on the real kernel: cni0 was created at 1450 and a 1500 port joined; it stays at 1450.
  assert.equal(link('cni0')?.mtu, 1450);
  assert.deepEqual(
    ['vethpod1', 'vethpod3'].map((n) => [link(n)?.mtu, link(n)?.master]),
    [
      [1450, 'cni0'],
      [1500, 'cni0'],
    ],
  );
  const pod = (veth: string) =>
    f.podInterfaces?.find((p) => p.peerIndex === link(veth)?.index && link(veth)?.parent === `if${p.index}`);
  assert.deepEqual(pod('vethpod1') && [pod('vethpod1')!.addresses, pod('vethpod1')!.mtu], [
    ['10.244.1.2'],
    1450,
  ]);
  assert.deepEqual(pod('vethpod3') && [pod('vethpod3')!.addresses, pod('vethpod3')!.mtu], [
    ['10.244.1.3'],
    1500,
  ]);
  assert.equal(f.subnetEnv !== 'missing' && f.subnetEnv?.mtu, 1500);
  assert.deepEqual(f.errors, []);
  // Recorded before the section existed: the field is left out, not guessed.
  assert.equal('podInterfaces' in facts('iproute2-6.1.0/host-gw'), false);
});

const pairs = (dir: string, ext: string) =>
  readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(join(dir, d.name))
        .filter((f) => f.endsWith(ext) && !f.endsWith('.expected.json'))
        .map((f) => ({
          id: `${d.name}/${f}`,
          raw: join(dir, d.name, f),
          expected: join(dir, d.name, f.slice(0, -ext.length) + '.expected.json'),
        })),
    );

const FIXTURES = join(PROBE_FIXTURES, '..');
for (const p of pairs(join(FIXTURES, 'ping'), '.txt')) {
  test(`ping fixture ${p.id} parses to its golden result`, () => {
    assert.deepEqual(parsePing(readFileSync(p.raw, 'utf8')), json(p.expected));
  });
}
for (const p of pairs(join(FIXTURES, 'iperf3'), '.json')) {
  test(`iperf3 fixture ${p.id} parses to its golden result`, () => {
    assert.deepEqual(parseIperf3Json(readFileSync(p.raw, 'utf8')), json(p.expected));
  });
}

test('ping: DF probes report the path MTU, and loss is counted', () => {
  const dir = pairs(join(FIXTURES, 'ping'), '.txt');
  const get = (name: string) => {
    const p = dir.find((x) => x.id.startsWith('iputils') && x.id.endsWith(`/${name}.txt`));
    assert.ok(p, name);
    return parsePing(readFileSync(p.raw, 'utf8'));
  };
  const ok = get('ok');
  assert.equal(ok.received, 3);
  assert.equal(ok.lossPercent, 0);
  assert.ok(ok.rtt && ok.rtt.min <= ok.rtt.avg && ok.rtt.avg <= ok.rtt.max && ok.rtt.mdev !== null);
  assert.equal(get('df-pass').lossPercent, 0);
  const frag = get('df-frag-needed');
  assert.equal(frag.fragNeeded, true);
  assert.equal(frag.reportedMtu, 1400);
  assert.equal(frag.received, 0);
  const local = get('df-message-too-long');
  assert.equal(local.messageTooLong, true);
  assert.equal(local.fragNeeded, false);
  assert.equal(local.reportedMtu, 1400);
  assert.equal(get('no-reply').lossPercent, 100);
});

test('iperf3: TCP, reverse/parallel, UDP and error results', () => {
  const dir = pairs(join(FIXTURES, 'iperf3'), '.json');
  const get = (name: string) => {
    const p = dir.find((x) => x.id.endsWith(`/${name}.json`));
    assert.ok(p, name);
    return parseIperf3Json(readFileSync(p.raw, 'utf8'));
  };
  const tcp = get('tcp');
  assert.equal(tcp.protocol, 'tcp');
  assert.ok((tcp.receivedBitsPerSecond ?? 0) > 0 && tcp.retransmits !== null && tcp.cpu !== null);
  const rp = get('tcp-reverse-parallel');
  assert.equal(rp.reverse, true);
  assert.equal(rp.streams, 2);
  const udp = get('udp');
  assert.equal(udp.protocol, 'udp');
  assert.ok(udp.jitterMs !== null && udp.lostPercent !== null && (udp.packets ?? 0) > 0);
  assert.equal(udp.retransmits, null);
  const err = get('error-refused');
  assert.match(err.error ?? '', /unable to connect/);
  assert.equal(err.receivedBitsPerSecond, null);
});
