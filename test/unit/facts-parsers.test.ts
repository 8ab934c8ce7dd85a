import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFdbText } from '../../src/facts/parse/bridge-fdb.ts';
import { jsonArray } from '../../src/facts/parse/common.ts';
import { parseIpVersion } from '../../src/facts/parse/ip-version.ts';
import { parseIptables } from '../../src/facts/parse/iptables.ts';
import { parseNeighboursJson, parseNeighboursText } from '../../src/facts/parse/ip-neigh.ts';
import { parseRouteGet, parseRoutesJson, parseRoutesText } from '../../src/facts/parse/ip-route.ts';
import { parsePing } from '../../src/facts/parse/ping.ts';
import { parseSnmp } from '../../src/facts/parse/snmp.ts';
import { parseSubnetEnv } from '../../src/facts/parse/subnet-env.ts';
import { effectiveRpFilter, parseSysctls } from '../../src/facts/parse/sysctl.ts';
import { parseProbeOutput } from '../../src/facts/node-facts.ts';

test('text routes keep every keyword flannel checks need and warn on unknown words', () => {
  const { value, warnings } = parseRoutesText(
    [
      '10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink',
      'unicast 10.244.3.0/24 via 192.168.77.13 dev eth0 proto static scope global metric 50 linkdown mtu lock 1400',
      'blackhole 10.99.0.0/16 proto bird',
      '10.244.9.0/24 table 100 dev eth0 frobnicate',
      'default proto static metric 10',
      '\tnexthop via 192.168.77.12 dev eth0 weight 1',
      '\tnexthop via 192.168.77.13 dev eth0 weight 2 onlink',
      '192.168.77.12 dev eth0 scope link',
    ].join('\n'),
  );
  assert.deepEqual(value[0], {
    family: 'inet',
    type: 'unicast',
    dst: '10.244.2.0/24',
    gateway: '10.244.2.0',
    dev: 'flannel.1',
    protocol: 'boot',
    scope: 'global',
    metric: null,
    flags: ['onlink'],
    table: 'main',
    prefsrc: null,
    mtu: null,
    nexthops: [],
  });
  assert.deepEqual(
    [value[1]?.protocol, value[1]?.metric, value[1]?.mtu, value[1]?.flags],
    ['static', 50, 1400, ['linkdown']],
  );
  assert.deepEqual(
    [value[2]?.type, value[2]?.dst, value[2]?.protocol],
    ['blackhole', '10.99.0.0/16', 'bird'],
  );
  assert.equal(value[3]?.table, '100');
  assert.deepEqual(value[4]?.nexthops, [
    { gateway: '192.168.77.12', dev: 'eth0', weight: 1, flags: [] },
    { gateway: '192.168.77.13', dev: 'eth0', weight: 2, flags: ['onlink'] },
  ]);
  assert.equal(value[5]?.dst, '192.168.77.12/32');
  assert.deepEqual(warnings, [
    "route: unknown word 'frobnicate' in '10.244.9.0/24 table 100 dev eth0 frobnicate'",
  ]);
});

test('JSON routes fill in what iproute2 omits and read multipath and IPv4-via-IPv6 gateways', () => {
  const items = jsonArray(
    JSON.stringify([
      { dst: '10.244.2.0/24', gateway: '192.168.77.12', dev: 'eth0', flags: [] },
      {
        dst: 'default',
        protocol: 'static',
        metric: 10,
        flags: [],
        nexthops: [{ gateway: '192.168.77.1', dev: 'eth0', weight: 1, flags: [] }],
      },
      {
        dst: '10.244.5.0/24',
        via: { family: 'inet6', host: 'fe80::1' },
        dev: 'eth0',
        flags: [],
        metrics: [{ mtu: 1400 }],
      },
    ]),
  );
  assert.ok(items);
  const [plain, multipath, via6] = parseRoutesJson(items).value;
  assert.deepEqual(
    [plain?.protocol, plain?.scope, plain?.type, plain?.table],
    ['boot', 'global', 'unicast', 'main'],
  );
  assert.equal(multipath?.nexthops[0]?.gateway, '192.168.77.1');
  assert.deepEqual([via6?.gateway, via6?.mtu], ['fe80::1', 1400]);
});

test('route get: an error line is not a route; text and JSON agree', () => {
  assert.equal(parseRouteGet(undefined, 'RTNETLINK answers: Network is unreachable\n'), undefined);
  const text = parseRouteGet(
    'Usage: ip ...',
    '10.0.0.5 via 192.168.77.1 dev eth0 src 192.168.77.11 uid 0 \n    cache expires 300sec mtu 1400\n',
  );
  assert.deepEqual(text?.value, [
    {
      dst: '10.0.0.5',
      type: 'unicast',
      gateway: '192.168.77.1',
      dev: 'eth0',
      prefsrc: '192.168.77.11',
    },
  ]);
  assert.deepEqual(text?.warnings, []);
});

test('neighbours: null-valued JSON keys are flags; text states are upper case', () => {
  const items = jsonArray(
    '[{"dst":"192.168.77.1","dev":"eth0","lladdr":"02:00:00:00:00:01","router":null,"state":["REACHABLE"]}]',
  );
  assert.ok(items);
  assert.deepEqual(parseNeighboursJson(items).value[0]?.flags, ['router']);
  const { value } = parseNeighboursText(
    '192.0.2.1 dev eth0 lladdr 02:fc:00:00:00:05 used 0/0/0 probes 4 STALE\nfd00::1 dev eth0 router FAILED\n',
  );
  assert.deepEqual(
    value.map((n) => [n.dst, n.lladdr, n.state, n.flags]),
    [
      ['192.0.2.1', '02:fc:00:00:00:05', ['STALE'], []],
      ['fd00::1', null, ['FAILED'], ['router']],
    ],
  );
});

test('fdb text: the remote VTEP, state and flags', () => {
  const { value } = parseFdbText(
    '00:00:00:00:00:00 dst 192.168.77.12 self permanent\naa:bb:cc:dd:ee:ff vlan 1 master cni0 permanent\n',
    'flannel.1',
  );
  assert.deepEqual(value, [
    {
      mac: '00:00:00:00:00:00',
      dev: 'flannel.1',
      dst: '192.168.77.12',
      vni: null,
      state: 'permanent',
      flags: ['self'],
    },
    {
      mac: 'aa:bb:cc:dd:ee:ff',
      dev: 'flannel.1',
      dst: null,
      vni: null,
      state: 'permanent',
      flags: ['master'],
    },
  ]);
});

test('ip -V: iproute2 versions, snapshots, BusyBox and unknown tools', () => {
  assert.deepEqual(parseIpVersion('ip utility, iproute2-6.1.0, libbpf 1.1.2\n'), {
    implementation: 'iproute2',
    version: '6.1.0',
    snapshot: null,
    raw: 'ip utility, iproute2-6.1.0, libbpf 1.1.2',
  });
  assert.equal(parseIpVersion('ip utility, iproute2-5.15.0, libbpf 0.5.0')?.version, '5.15.0');
  assert.equal(parseIpVersion('ip utility, iproute2-ss170501')?.snapshot, 'ss170501');
  assert.deepEqual(
    [
      parseIpVersion('BusyBox v1.36.1 (2024-06-10 07:11:47 UTC) multi-call binary.\n\nUsage: ip')
        ?.implementation,
      parseIpVersion('BusyBox v1.36.1 (x)')?.version,
    ],
    ['busybox', '1.36.1'],
  );
  assert.equal(parseIpVersion('sh: ip: not found')?.implementation, 'unknown');
  assert.equal(parseIpVersion(''), null);
});

test('sysctls: missing (module not loaded) is distinct from unknown, rp_filter is per interface', () => {
  const s = parseSysctls(
    [
      'net/bridge/bridge-nf-call-iptables!missing',
      'net/ipv4/ip_forward:0',
      'grep: net/bridge/bridge-nf-call-iptables: No such file or directory',
      'net/ipv4/conf/all/rp_filter:1',
      'net/ipv4/conf/eth0.100/rp_filter:0',
      'net/ipv4/conf/eth1/rp_filter:2',
      'net/ipv4/tcp_available_congestion_control:reno cubic',
    ].join('\n'),
  );
  assert.equal(s.bridgeNfCallIptables, 'missing');
  assert.equal(s.ipForward, 0);
  assert.equal(s.conntrackMax, null);
  assert.deepEqual(s.rpFilter.interfaces, { 'eth0.100': 0, eth1: 2 });
  assert.equal(effectiveRpFilter(s.rpFilter, 'eth0.100'), 1);
  assert.equal(effectiveRpFilter(s.rpFilter, 'eth1'), 2);
  assert.equal(effectiveRpFilter(s.rpFilter, 'wg0'), null);
  assert.deepEqual(s.tcpAvailableCongestionControl, ['reno', 'cubic']);
  assert.equal(s.raw['net.ipv4.conf.eth0.100.rp_filter'], '0');
});

test('subnet.env: flannel keys, MTU as a number, IPv6 and unknown keys kept', () => {
  const env = parseSubnetEnv(
    'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_IPV6_NETWORK=fd00:10:244::/56\nFLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\nEXTRA=1\n',
  );
  assert.deepEqual(
    [env.network, env.subnet, env.ipv6Network, env.ipv6Subnet, env.mtu, env.ipMasq, env.raw.EXTRA],
    ['10.244.0.0/16', '10.244.1.1/24', 'fd00:10:244::/56', 'fd00:10:244:1::1/64', 1450, false, '1'],
  );
  assert.deepEqual([parseSubnetEnv('FLANNEL_MTU=abc').mtu, parseSubnetEnv('').ipMasq], [null, null]);
});

test('snmp: counters matched by header name, not column', () => {
  const s = parseSnmp(
    'Ip: ReasmFails FragFails Forwarding\nIp: 7 3 1\nUdp: InDatagrams RcvbufErrors\nUdp: 10 2\n',
  );
  assert.deepEqual([s.ipFrag.reasmFails, s.ipFrag.fragFails, s.ipFrag.fragCreates], [7, 3, null]);
  assert.equal(s.tables.Udp?.RcvbufErrors, 2);
});

test('iptables: FORWARD policy and rules in order', () => {
  const t = parseIptables(
    'iptables v1.8.7 (legacy)\n',
    '-P FORWARD DROP\n-A FORWARD -j DOCKER-USER\n-A FORWARD -j FLANNEL-FWD\n',
  );
  assert.deepEqual(t, {
    version: 'v1.8.7 (legacy)',
    forwardPolicy: 'DROP',
    forwardRules: ['-A FORWARD -j DOCKER-USER', '-A FORWARD -j FLANNEL-FWD'],
  });
});

test('ping: BusyBox summary and an unparsable output', () => {
  const bb = parsePing(
    '3 packets transmitted, 2 packets received, 33% packet loss\nround-trip min/avg/max = 0.060/0.077/0.094 ms\n',
  );
  assert.deepEqual(
    [bb.transmitted, bb.received, bb.lossPercent, bb.rtt],
    [3, 2, 33, { min: 0.06, avg: 0.077, max: 0.094, mdev: null }],
  );
  const none = parsePing('ping: connect: Network is unreachable\n');
  assert.deepEqual([none.transmitted, none.rtt, none.fragNeeded], [null, null, false]);
});

test('parseProbeOutput: missing and truncated sections become errors and null facts, never guesses', () => {
  const N = '0123456789abcdef';
  const out = `\n@@${N} BEGIN ip-version\nip utility, iproute2-6.1.0\n\n@@${N} END ip-version 0\n\n@@${N} BEGIN link-json\n[{"ifindex":1,"ifname":"lo"`;
  const f = parseProbeOutput('n1', out, N);
  assert.equal(f.ipVersion?.version, '6.1.0');
  assert.equal(f.links, null);
  assert.equal(f.routes, null);
  assert.equal(f.sysctls, null);
  assert.equal(f.subnetEnv, null);
  const kinds = new Map(f.errors.map((e) => [e.section, e.kind]));
  assert.equal(kinds.get('link-text'), 'absent');
  assert.equal(kinds.get('sysctl'), 'absent');
  assert.equal(kinds.get('link-json'), 'truncated');
});
