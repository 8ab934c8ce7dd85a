// bench's pure parts: statistics, /proc/stat, samples from recorded iperf3/ping output, flag
// validation, node picking, thresholds, compare and the text printers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, percentile, spread, changePercent } from '../../src/bench/stats.ts';
import { busyPercent, parseProcStat } from '../../src/bench/proc-stat.ts';
import { latencyFromPing, readIperf3, summarizeTcp, tcpSample, udpSample } from '../../src/bench/measure.ts';
import { pingReplyTimes } from '../../src/facts/parse/ping.ts';
import {
  parseRate,
  parseToleration,
  parseRttThreshold,
  validateBenchFlags,
} from '../../src/bench/options.ts';
import { pickNodes, type PickableNode } from '../../src/bench/pick-nodes.ts';
import { checkThresholds } from '../../src/bench/thresholds.ts';
import { compareResults, parseBenchResult } from '../../src/bench/compare.ts';
import { barChart, printComparisonText, printResultText } from '../../src/bench/print-text.ts';
import { iperf3ClientArgs, podObject } from '../../src/bench/pods.ts';
import { shellQuote } from '../../src/bench/host-driver.ts';
import type { BenchResult, PathResult } from '../../src/bench/result.ts';
import { UsageError, OperationError } from '../../src/errors.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');
const fixture = (...parts: string[]) => readFileSync(join(FIXTURES, ...parts), 'utf8');

test('median, spread and nearest-rank percentiles', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.deepEqual(spread([2, null, 5, 3]), { median: 3, min: 2, max: 5, values: [2, 5, 3] });
  assert.equal(spread([null, undefined]), null);
  const rtts = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.deepEqual([percentile(rtts, 50), percentile(rtts, 90), percentile(rtts, 99)], [50, 90, 99]);
  assert.equal(percentile([0.3], 99), 0.3);
  assert.equal(changePercent(8, 10), 25);
  assert.equal(changePercent(0, 10), null);
});

test('node CPU from two /proc/stat snapshots', () => {
  const a = parseProcStat('cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\n')!;
  const b = parseProcStat('cpu  200 0 200 1400 200 0 0 0 0 0\n')!;
  // 1000 jiffies passed, 200 busy (user+system), 800 idle or iowait.
  assert.equal(busyPercent(a, b), 20);
  assert.equal(parseProcStat('intr 1 2 3'), null);
  assert.equal(busyPercent(a, a), null);
});

test('TCP samples: receiver throughput, CPU by role (swapped with -R)', () => {
  const tcp = tcpSample(readIperf3(fixture('iperf3', '3.12', 'tcp.json'), 'run'), 'run');
  assert.ok(tcp.gbps > 0);
  assert.equal(tcp.retransmits, 0);
  assert.ok(tcp.cpuSender! > 0 && tcp.cpuReceiver! > 0);
  const raw = readIperf3(fixture('iperf3', '3.12', 'tcp-reverse-parallel.json'), 'run');
  const reverse = tcpSample(raw, 'run', { sender: 40, receiver: 30 });
  assert.equal(reverse.cpuSender, raw.cpu!.remoteTotal, 'with -R the server sends');
  assert.equal(reverse.cpuReceiver, raw.cpu!.hostTotal);
  assert.deepEqual([reverse.nodeCpuSender, reverse.nodeCpuReceiver], [40, 30]);
  const summary = summarizeTcp([tcp, reverse]);
  assert.equal(summary.gbps.values.length, 2);
  assert.equal(summary.nodeCpuSender!.values.length, 1, 'runs without node CPU are left out');
});

test('UDP samples carry jitter and loss; iperf3 errors and non-JSON output are clear errors', () => {
  const udp = udpSample(readIperf3(fixture('iperf3', '3.12', 'udp.json'), 'run'), 'run');
  assert.ok(udp.gbps > 0 && udp.jitterMs !== null && udp.lostPercent === 0);
  assert.throws(
    () => readIperf3(fixture('iperf3', '3.12', 'error-refused.json'), 'pod TCP run 1/3'),
    (e: Error) =>
      e instanceof OperationError && /^pod TCP run 1\/3: iperf3: unable to connect/.test(e.message),
  );
  assert.throws(() => readIperf3('exec: "iperf3": not found', 'run'), /printed no JSON report: exec/);
  // A warning line before the JSON (stderr in the same pod log) is skipped.
  assert.ok(readIperf3(`warning: x\n${fixture('iperf3', '3.12', 'tcp.json')}`, 'run').receivedBitsPerSecond);
});

test('ping: every reply time (iputils and BusyBox) and percentiles; no reply is an error', () => {
  const iputils = fixture('ping', 'iputils-20221126', 'ok.txt');
  assert.deepEqual(pingReplyTimes(iputils), [0.501, 0.057, 0.062]);
  assert.deepEqual(pingReplyTimes(fixture('ping', 'busybox-1.35.0', 'ok.txt')), [0.335, 0.079, 0.079]);
  const lat = latencyFromPing(iputils, 'latency');
  assert.deepEqual(
    [lat.p50Ms, lat.p90Ms, lat.p99Ms, lat.minMs, lat.maxMs],
    [0.062, 0.501, 0.501, 0.057, 0.501],
  );
  assert.equal(lat.lossPercent, 0);
  assert.throws(
    () => latencyFromPing(fixture('ping', 'iputils-20221126', 'no-reply.txt'), 'x'),
    /no ping reply/,
  );
  assert.throws(() => latencyFromPing('sh: ping: not found', 'x'), /ping printed no statistics/);
});

test('flags are validated before anything runs', () => {
  const o = validateBenchFlags({});
  assert.deepEqual(
    [o.mode, o.namespace, o.image, o.durationSeconds, o.repeat, o.streams, o.latencyCount, o.port],
    ['pod', 'flannelctl-bench', 'networkstatic/iperf3', 10, 3, 1, 20, 5201],
  );
  // --duration reads like every other time flag; a bare number stays seconds.
  for (const [text, seconds] of [
    ['30', 30],
    ['30s', 30],
    ['1m', 60],
    ['1m30s', 90],
  ] as const)
    assert.equal(validateBenchFlags({ duration: text }).durationSeconds, seconds, text);
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ from: 'a', to: 'a' }, /--from and --to are both a/],
    [{ from: 'Node_1' }, /--from "Node_1" is not a node name/],
    [{ benchNamespace: 'Bench' }, /not a namespace name/],
    [{ image: 'iperf3; rm -rf /' }, /--image .* is not an image reference/],
    [{ duration: '0' }, /--duration 0 is not a whole number of seconds between 1s and 1h/],
    [{ duration: '1500ms' }, /--duration 1500ms is not a whole number of seconds/],
    [{ duration: '2h' }, /between 1s and 1h/],
    [{ duration: 'ten' }, /--duration "ten" is not a duration/],
    [{ streams: 'four' }, /--streams takes a whole number/],
    [{ udpRate: 'fast' }, /--udp-rate "fast" is not a rate/],
    [{ failBelow: '-1' }, /--fail-below takes a positive number/],
    [{ failBelowEfficiency: '80' }, /--fail-below-efficiency needs --mode both/],
    [{ failAboveRtt: '1', latencyCount: '0' }, /--fail-above-rtt needs a latency test/],
    [{ port: '80' }, /--port 80 is not between 1024 and 65535/],
    [{ toleration: ['a:Sometimes'] }, /effect must be one of/],
  ];
  for (const [flags, message] of bad)
    assert.throws(
      () => validateBenchFlags(flags),
      (e: Error) => e instanceof UsageError && message.test(e.message),
    );
  assert.equal(parseRate('1.5G'), 1.5e9);
  assert.equal(parseRate('500m'), 5e8);
  assert.deepEqual(parseToleration('node-role.kubernetes.io/control-plane:NoSchedule'), {
    key: 'node-role.kubernetes.io/control-plane',
    operator: 'Exists',
    effect: 'NoSchedule',
  });
  assert.deepEqual(parseToleration('dedicated=net'), { key: 'dedicated', operator: 'Equal', value: 'net' });
  assert.deepEqual(parseToleration('all'), { operator: 'Exists' });
  assert.deepEqual(parseRttThreshold('0.5'), { percentile: 'p50', ms: 0.5 });
  assert.deepEqual(parseRttThreshold('p99=2'), { percentile: 'p99', ms: 2 });
});

test('pods are pinned, labelled and carry the pull secrets and tolerations', () => {
  const o = validateBenchFlags({
    imagePullSecret: ['regcred'],
    toleration: ['all'],
    streams: '4',
    reverse: true,
  });
  const pod = podObject('abc123', o, {
    name: 'bench-abc123-server',
    role: 'server',
    node: 'node-2',
    image: o.image,
    command: ['iperf3', '-s'],
    readyPort: 5201,
  });
  const spec = pod.spec as Record<string, unknown> & { containers: Record<string, unknown>[] };
  assert.equal(spec.nodeName, 'node-2');
  assert.deepEqual(spec.imagePullSecrets, [{ name: 'regcred' }]);
  assert.deepEqual(spec.tolerations, [{ operator: 'Exists' }]);
  assert.deepEqual(spec.containers[0]!.readinessProbe, { tcpSocket: { port: 5201 }, periodSeconds: 1 });
  assert.equal(pod.metadata.labels!['app.kubernetes.io/managed-by'], 'flannelctl');
  assert.equal(pod.metadata.labels!['flannelctl.io/bench-run'], 'abc123');
  assert.deepEqual(iperf3ClientArgs('10.244.2.5', o, 1e9), [
    'iperf3',
    '-c',
    '10.244.2.5',
    '-p',
    '5201',
    '-t',
    '10',
    '-J',
    '-P',
    '4',
    '-R',
    '-u',
    '-b',
    '1000000000',
  ]);
  assert.equal(shellQuote('10.0.0.1'), '10.0.0.1');
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});

const node = (name: string, ip: string, extra: Partial<PickableNode> = {}, ready = true): PickableNode => ({
  metadata: { name, labels: {}, annotations: {} },
  spec: {},
  status: {
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    addresses: [{ type: 'InternalIP', address: ip }],
  },
  ...extra,
});

test('node picking: same segment, Ready and schedulable, workers first; --from/--to are checked', () => {
  const cp = node('cp-1', '10.0.0.10', {
    metadata: { name: 'cp-1', labels: { 'node-role.kubernetes.io/control-plane': '' } },
  });
  const nodes = [
    cp,
    node('node-3', '10.0.1.3'),
    node('node-1', '10.0.0.11', {}, false),
    node('node-2', '10.0.0.12'),
    node('node-10', '10.0.0.20'),
  ];
  const pick = pickNodes(nodes);
  assert.deepEqual([pick.client.metadata!.name, pick.server.metadata!.name], ['node-2', 'node-10']);
  assert.equal(
    pickNodes(nodes, 'node-3').server.metadata!.name,
    'node-2',
    'no peer on its segment: any Ready node',
  );
  assert.throws(() => pickNodes(nodes, 'node-1'), /--from node-1: the node is not Ready/);
  assert.throws(() => pickNodes(nodes, 'nope'), /--from nope: no such node/);
  assert.throws(
    () => pickNodes([node('a', '10.0.0.1'), node('b', '10.0.1.1')]),
    /no two Ready nodes share a network segment/,
  );
});

test('node picking: nodes whose taints the bench pods do not tolerate come last, tolerated ones count', () => {
  const tainted = (name: string, ip: string) =>
    node(name, ip, { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } });
  const nodes = [tainted('node-1', '10.0.0.11'), node('node-2', '10.0.0.12'), node('node-3', '10.0.0.13')];
  const names = (p: ReturnType<typeof pickNodes>) => [p.client.metadata!.name, p.server.metadata!.name];
  assert.deepEqual(names(pickNodes(nodes)), ['node-2', 'node-3']);
  assert.deepEqual(
    names(pickNodes(nodes, undefined, undefined, [{ key: 'dedicated', operator: 'Exists' }])),
    ['node-1', 'node-2'],
    'tolerated: back in name order',
  );
  const pick = pickNodes([tainted('node-1', '10.0.0.11'), node('node-2', '10.0.0.12')]);
  assert.match(pick.reason, /node-1 has taint dedicated=db:NoSchedule: pass --toleration/);
});

const spreadOf = (...values: number[]) => spread(values)!;
const path = (p: 'pod' | 'host', gbps: number[], cpu: number, rtt: number): PathResult => ({
  path: p,
  clientIP: '10.244.1.100',
  serverIP: '10.244.2.100',
  tcp: {
    gbps: spreadOf(...gbps),
    retransmits: spreadOf(0),
    cpuSender: spreadOf(cpu),
    cpuReceiver: spreadOf(cpu + 10),
    nodeCpuSender: null,
    nodeCpuReceiver: null,
    samples: [],
  },
  latency: {
    transmitted: 20,
    received: 20,
    lossPercent: 0,
    p50Ms: rtt,
    p90Ms: rtt * 1.5,
    p99Ms: rtt * 2,
    minMs: rtt / 2,
    maxMs: rtt * 2,
  },
});

const result = (backend: string, results: PathResult[]): BenchResult => ({
  apiVersion: 'flannelctl/v1',
  kind: 'BenchResult',
  schemaVersion: 1,
  runId: backend === 'vxlan' ? 'aaaaaa' : 'bbbbbb',
  startedAt: '2026-11-26T10:00:00.000Z',
  finishedAt: '2026-11-26T10:01:00.000Z',
  simulated: false,
  cluster: {
    backend,
    flannelVersion: 'v0.28.9',
    mtu: backend === 'vxlan' ? 1450 : 1500,
    mtuSource: 'subnet.env',
  },
  client: { name: 'node-1', address: '192.168.77.11', kernel: '6.1.0', podCIDR: '10.244.1.0/24' },
  server: { name: 'node-2', address: '192.168.77.12', kernel: '6.1.0', podCIDR: '10.244.2.0/24' },
  settings: {
    mode: 'both',
    durationSeconds: 10,
    streams: 1,
    reverse: false,
    repeat: 3,
    udpRateBitsPerSecond: null,
    latencyCount: 20,
    image: 'networkstatic/iperf3',
  },
  results,
  overlayEfficiency: results.length === 2 ? results[0]!.tcp.gbps.median / results[1]!.tcp.gbps.median : null,
});

const vxlan = result('vxlan', [path('pod', [7.8, 8, 8.3], 40, 0.5), path('host', [10, 10, 10], 20, 0.2)]);
const hostGw = result('host-gw', [
  path('pod', [9.4, 9.6, 9.5], 25, 0.3),
  path('host', [10, 10, 10], 20, 0.2),
]);

test('thresholds judge the pod path: throughput, RTT percentile, efficiency', () => {
  assert.deepEqual(checkThresholds(vxlan, { minGbps: 5, maxRtt: { percentile: 'p50', ms: 1 } }), []);
  const v = checkThresholds(vxlan, {
    minGbps: 9,
    maxRtt: { percentile: 'p99', ms: 0.8 },
    minEfficiencyPercent: 90,
  });
  assert.deepEqual(
    v.map((x) => x.message),
    [
      'pod throughput 8.00 Gbit/s is below 9 Gbit/s',
      'pod RTT p99 1 ms is above 0.8 ms',
      'pod network reaches 80% of the host baseline, below 90%',
    ],
  );
  const hostOnly = result('vxlan', [path('host', [10], 20, 0.2)]);
  assert.match(checkThresholds(hostOnly, { minGbps: 11 })[0]!.message, /^host throughput/);
});

test('compare: before → after changes, the headline, warnings, and the printed table with bars', () => {
  const cmp = compareResults(vxlan, hostGw, { before: 'vxlan.json', after: 'host-gw.json' });
  const pod = cmp.paths[0]!;
  const change = (m: string) => pod.metrics.find((x) => x.metric === m)!.changePercent!;
  assert.equal(change('throughput').toFixed(1), '18.8');
  assert.equal(change('RTT p50').toFixed(1), '-40.0');
  assert.ok(change('CPU per Gbit/s') < 0);
  assert.equal(cmp.headline, 'host-gw vs vxlan: +19% throughput, −44% CPU per Gbit/s, −40% latency');
  assert.deepEqual(cmp.warnings, []);
  const text = printComparisonText(cmp, false);
  assert.match(text, /^throughput\s+8\.00 Gbit\/s\s+9\.50 Gbit\/s\s+\+18\.8%$/m);
  assert.match(text, /^vxlan\s+█{34}\s+8\.00 Gbit\/s$/m);
  assert.match(text, /^host-gw\s+█{40}\s+9\.50 Gbit\/s$/m);
  const other = { ...hostGw, server: { ...hostGw.server, name: 'node-3' } };
  assert.match(
    compareResults(vxlan, other, { before: 'a', after: 'b' }).warnings[0]!,
    /different node pairs/,
  );
});

test('saved results are checked before comparing', () => {
  assert.equal(parseBenchResult(JSON.stringify(vxlan), 'a.json').runId, 'aaaaaa');
  assert.throws(() => parseBenchResult('{', 'a.json'), /a\.json: not JSON/);
  assert.throws(() => parseBenchResult('{"kind":"DoctorReport"}', 'a.json'), /not a BenchResult/);
  assert.throws(
    () => parseBenchResult(JSON.stringify({ ...vxlan, schemaVersion: 9 }), 'a.json'),
    /schema version 9 is not supported/,
  );
});

test('the result table: medians with min–max, CPU, RTT percentiles, overlay efficiency, violations', () => {
  const text = printResultText(
    vxlan,
    [{ flag: '--fail-below', message: 'pod throughput 8.00 Gbit/s is below 9 Gbit/s' }],
    false,
  );
  assert.match(text, /^node-1 → node-2: flannel v0\.28\.9 vxlan, MTU 1450, kernel 6\.1\.0$/m);
  assert.match(text, /^PATH\s+GBIT\/S\s+RETR\s+CPU SND\/RCV\s+NODE CPU SND\/RCV\s+RTT P50\/P90\/P99 MS$/m);
  assert.match(text, /^pod\s+8\.00 \(7\.80–8\.30\)\s+0\s+40% \/ 50%\s+-\s+0\.500 \/ 0\.750 \/ 1\.000$/m);
  assert.match(text, /^Overlay efficiency: the pod network reaches 80% of the node-to-node baseline\.$/m);
  assert.match(text, /✗ --fail-below: pod throughput/);
  assert.deepEqual(barChart([{ label: 'a', value: 0, unit: 'ms' }], 4), ['a        0.000 ms']);
});
