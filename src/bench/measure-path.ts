// The test sequence for one path: TCP × repeat, UDP × repeat (with --udp-rate), then ping for latency.
import type { PathDriver } from './driver.ts';
import { latencyFromPing, readIperf3, summarizeTcp, summarizeUdp, tcpSample, udpSample } from './measure.ts';
import type { BenchOptions } from './options.ts';
import { iperf3ClientArgs, pingArgs } from './pods.ts';
import type { PathResult, TcpSample, UdpSample } from './result.ts';

export type Progress = (line: string) => void;

const fmt = (gbps: number): string => `${gbps.toFixed(2)} Gbit/s`;

export const measurePath = async (
  driver: PathDriver,
  options: BenchOptions,
  progress: Progress,
): Promise<PathResult> => {
  const serverIP = await driver.setup();
  const tcp: TcpSample[] = [];
  for (let i = 1; i <= options.repeat; i++) {
    const what = `${driver.path} TCP run ${i}/${options.repeat}`;
    progress(`${what}: iperf3 → ${serverIP}, ${options.durationSeconds}s`);
    const run = await driver.iperf3(iperf3ClientArgs(serverIP, options), what);
    const sample = tcpSample(readIperf3(run.output, what), what, run.nodeCpu);
    tcp.push(sample);
    progress(`${what}: ${fmt(sample.gbps)}, ${sample.retransmits ?? '-'} retransmits`);
  }
  const udp: UdpSample[] = [];
  if (options.udpRate !== undefined) {
    for (let i = 1; i <= options.repeat; i++) {
      const what = `${driver.path} UDP run ${i}/${options.repeat}`;
      progress(`${what}: iperf3 -u at ${options.udpRate / 1e6} Mbit/s`);
      const run = await driver.iperf3(iperf3ClientArgs(serverIP, options, options.udpRate), what);
      const sample = udpSample(readIperf3(run.output, what), what);
      udp.push(sample);
      progress(`${what}: ${fmt(sample.gbps)}, ${sample.lostPercent ?? '-'}% lost`);
    }
  }
  let latency: PathResult['latency'];
  if (options.latencyCount > 0) {
    const what = `${driver.path} latency`;
    progress(`${what}: ${options.latencyCount} pings → ${serverIP}`);
    const run = await driver.ping(pingArgs(serverIP, options.latencyCount), what);
    latency = latencyFromPing(run.output, what);
    progress(`${what}: p50 ${latency.p50Ms} ms`);
  }
  return {
    path: driver.path,
    clientIP: driver.clientIP(),
    serverIP,
    tcp: summarizeTcp(tcp),
    ...(udp.length > 0 ? { udp: summarizeUdp(udp, options.udpRate!) } : {}),
    ...(latency ? { latency } : {}),
  };
};
