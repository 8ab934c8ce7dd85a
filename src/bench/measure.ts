// From tool output to samples and summaries: iperf3 -J via parseIperf3Json, ping via parsePing and
// its per-reply times. iperf3's failures (refused, timed out) become OperationErrors with its message.
import { OperationError } from '../errors.ts';
import type { Iperf3Result } from '../facts/parse/iperf3.ts';
import { parseIperf3Json } from '../facts/parse/iperf3.ts';
import { parsePing, pingReplyTimes } from '../facts/parse/ping.ts';
import type { LatencySummary, TcpSample, TcpSummary, UdpSample, UdpSummary } from './result.ts';
import { percentile, spread } from './stats.ts';

/** Parses a client's iperf3 -J output; `what` names the run in errors ("pod TCP run 2"). */
export const readIperf3 = (text: string, what: string): Iperf3Result => {
  // Pod logs may carry a line before the JSON (e.g. a warning on stderr): start at the first "{".
  const start = text.indexOf('{');
  let result: Iperf3Result;
  try {
    result = parseIperf3Json(start >= 0 ? text.slice(start) : text);
  } catch {
    throw new OperationError(
      `${what}: iperf3 printed no JSON report: ${text.trim().slice(0, 300) || '(no output)'}`,
      'is iperf3 in the image, and is the server reachable? (--image)',
    );
  }
  if (result.error) {
    // EMSGSIZE: a datagram above the path MTU the sender learned from an ICMP frag-needed. Right after
    // a vxlan -> host-gw switch that is a cni0 still at 1450: a bridge takes the lowest MTU of its
    // ports (Linux net/bridge/br_if.c br_mtu_auto_adjust) until the old-MTU pods are gone.
    const hint = /message too long/i.test(result.error)
      ? 'a node or pod on the path has a lower MTU than the pods (e.g. cni0 held at 1450 by pods created under vxlan); `flannelctl doctor` names them, recreate those pods'
      : undefined;
    throw new OperationError(`${what}: iperf3: ${result.error}`, hint);
  }
  return result;
};

const gbps = (bits: number | null): number | null => (bits === null ? null : bits / 1e9);

export interface NodeCpu {
  readonly sender: number | null;
  readonly receiver: number | null;
}

/**
 * iperf3 reports CPU for its own process (host) and its peer (remote); with -R the client receives,
 * so sender and receiver swap.
 */
export const tcpSample = (r: Iperf3Result, what: string, nodeCpu?: NodeCpu): TcpSample => {
  // The receiver's count is what arrived; the sender's is what left (bigger when data was in flight).
  const rate = gbps(r.receivedBitsPerSecond ?? r.sentBitsPerSecond);
  if (rate === null) throw new OperationError(`${what}: iperf3 reported no throughput`);
  const host = r.cpu?.hostTotal ?? null;
  const remote = r.cpu?.remoteTotal ?? null;
  return {
    gbps: rate,
    retransmits: r.retransmits,
    cpuSender: r.reverse ? remote : host,
    cpuReceiver: r.reverse ? host : remote,
    nodeCpuSender: nodeCpu?.sender ?? null,
    nodeCpuReceiver: nodeCpu?.receiver ?? null,
  };
};

export const udpSample = (r: Iperf3Result, what: string): UdpSample => {
  const rate = gbps(r.receivedBitsPerSecond ?? r.sentBitsPerSecond);
  if (rate === null) throw new OperationError(`${what}: iperf3 reported no throughput`);
  return { gbps: rate, jitterMs: r.jitterMs, lostPercent: r.lostPercent };
};

export const summarizeTcp = (samples: readonly TcpSample[]): TcpSummary => ({
  gbps: spread(samples.map((s) => s.gbps))!,
  retransmits: spread(samples.map((s) => s.retransmits)),
  cpuSender: spread(samples.map((s) => s.cpuSender)),
  cpuReceiver: spread(samples.map((s) => s.cpuReceiver)),
  nodeCpuSender: spread(samples.map((s) => s.nodeCpuSender)),
  nodeCpuReceiver: spread(samples.map((s) => s.nodeCpuReceiver)),
  samples,
});

export const summarizeUdp = (samples: readonly UdpSample[], targetBitsPerSecond: number): UdpSummary => ({
  targetBitsPerSecond,
  gbps: spread(samples.map((s) => s.gbps))!,
  jitterMs: spread(samples.map((s) => s.jitterMs)),
  lostPercent: spread(samples.map((s) => s.lostPercent)),
  samples,
});

/** RTT percentiles over every reply; a run where nothing answered is an error, not a number. */
export const latencyFromPing = (text: string, what: string): LatencySummary => {
  const stats = parsePing(text);
  const times = pingReplyTimes(text);
  if (stats.transmitted === null) {
    throw new OperationError(
      `${what}: ping printed no statistics: ${text.trim().slice(0, 300) || '(no output)'}`,
      'does the image have ping, and may it use raw sockets (NET_RAW)? (--ping-image)',
    );
  }
  if (times.length === 0) throw new OperationError(`${what}: no ping reply (${stats.lossPercent}% loss)`);
  return {
    transmitted: stats.transmitted,
    received: stats.received ?? times.length,
    lossPercent: stats.lossPercent ?? 0,
    p50Ms: percentile(times, 50),
    p90Ms: percentile(times, 90),
    p99Ms: percentile(times, 99),
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
  };
};
