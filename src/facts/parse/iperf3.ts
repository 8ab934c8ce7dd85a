// `iperf3 -J` results (client side): TCP throughput/retransmits/CPU, UDP jitter/loss, reverse and
// parallel streams. iperf3 reports failures as JSON too (`"error": "unable to connect ..."`).
import type { JsonObject } from './common.ts';
import { bool, isObject, num, str } from './common.ts';

export interface Iperf3Result {
  readonly protocol: 'tcp' | 'udp' | null;
  /** -R: the server sent, the client received. */
  readonly reverse: boolean;
  /** -P. */
  readonly streams: number | null;
  readonly durationSeconds: number | null;
  readonly sentBitsPerSecond: number | null;
  readonly receivedBitsPerSecond: number | null;
  /** TCP only. */
  readonly retransmits: number | null;
  readonly cpu: { readonly hostTotal: number; readonly remoteTotal: number } | null;
  /** UDP only. */
  readonly jitterMs: number | null;
  readonly lostPercent: number | null;
  readonly lostPackets: number | null;
  readonly packets: number | null;
  readonly congestion: string | null;
  readonly version: string | null;
  /** iperf3's own error message; the numbers are null then. */
  readonly error: string | null;
}

const obj = (o: JsonObject | undefined, key: string): JsonObject | undefined => {
  const v = o?.[key];
  return isObject(v) ? v : undefined;
};

/** Throws when the text is not iperf3 JSON at all. */
export const parseIperf3Json = (text: string): Iperf3Result => {
  const data: unknown = JSON.parse(text);
  if (!isObject(data) || !isObject(data.start)) throw new Error('not iperf3 -J output: no "start" object');
  const start = data.start;
  const testStart = obj(start, 'test_start');
  const end = obj(data, 'end');
  const sent = obj(end, 'sum_sent');
  const received = obj(end, 'sum_received');
  const udpSum = obj(end, 'sum');
  const cpu = obj(end, 'cpu_utilization_percent');
  const protocol = str(testStart ?? {}, 'protocol')?.toLowerCase();
  const isUdp = protocol === 'udp';
  const cpuHost = cpu ? num(cpu, 'host_total') : null;
  const cpuRemote = cpu ? num(cpu, 'remote_total') : null;
  // For UDP the receiver's loss and jitter are in sum_received on iperf3 >= 3.11 and in `sum` before.
  const udp = isUdp ? (received && num(received, 'packets') !== null ? received : udpSum) : undefined;
  return {
    protocol: protocol === 'tcp' || protocol === 'udp' ? protocol : null,
    reverse: testStart ? num(testStart, 'reverse') === 1 || bool(testStart, 'reverse') === true : false,
    streams: testStart ? num(testStart, 'num_streams') : null,
    durationSeconds: sent ? num(sent, 'seconds') : udpSum ? num(udpSum, 'seconds') : null,
    sentBitsPerSecond: sent ? num(sent, 'bits_per_second') : udpSum ? num(udpSum, 'bits_per_second') : null,
    receivedBitsPerSecond: received ? num(received, 'bits_per_second') : null,
    retransmits: !isUdp && sent ? num(sent, 'retransmits') : null,
    cpu: cpuHost !== null && cpuRemote !== null ? { hostTotal: cpuHost, remoteTotal: cpuRemote } : null,
    jitterMs: udp ? num(udp, 'jitter_ms') : null,
    lostPercent: udp ? num(udp, 'lost_percent') : null,
    lostPackets: udp ? num(udp, 'lost_packets') : null,
    packets: udp ? num(udp, 'packets') : null,
    congestion: end ? str(end, 'sender_tcp_congestion') : null,
    version: str(start, 'version'),
    error: str(data, 'error'),
  };
};
