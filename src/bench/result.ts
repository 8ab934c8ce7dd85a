// BenchResult: what `bench --save` writes and `bench compare` reads, versioned so a file saved today
// still compares after an upgrade. Numbers are SI: Gbit/s, percent, milliseconds.
import type { Spread } from './stats.ts';

export const BENCH_API_VERSION = 'flannelctl/v1';
export const BENCH_KIND = 'BenchResult';
/** Bumped when a field changes meaning; readers refuse versions they do not know. */
export const BENCH_SCHEMA_VERSION = 1;

export type BenchMode = 'pod' | 'host' | 'both';
/** pod: pod network (overlay or host-gw routes, veth, cni0); host: node to node, the physical baseline. */
export type BenchPath = 'pod' | 'host';

/** One TCP iperf3 run, from the client's -J report. */
export interface TcpSample {
  readonly gbps: number;
  readonly retransmits: number | null;
  /** iperf3's own CPU share of the sending and receiving process (percent of one CPU). */
  readonly cpuSender: number | null;
  readonly cpuReceiver: number | null;
  /** Whole-node busy CPU from /proc/stat over the run, when the nodes were reachable. */
  readonly nodeCpuSender: number | null;
  readonly nodeCpuReceiver: number | null;
}

export interface UdpSample {
  readonly gbps: number;
  readonly jitterMs: number | null;
  readonly lostPercent: number | null;
}

export interface TcpSummary {
  readonly gbps: Spread;
  readonly retransmits: Spread | null;
  readonly cpuSender: Spread | null;
  readonly cpuReceiver: Spread | null;
  readonly nodeCpuSender: Spread | null;
  readonly nodeCpuReceiver: Spread | null;
  readonly samples: readonly TcpSample[];
}

export interface UdpSummary {
  /** --udp-rate in bit/s. */
  readonly targetBitsPerSecond: number;
  readonly gbps: Spread;
  readonly jitterMs: Spread | null;
  readonly lostPercent: Spread | null;
  readonly samples: readonly UdpSample[];
}

export interface LatencySummary {
  readonly transmitted: number;
  readonly received: number;
  readonly lossPercent: number;
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
  readonly minMs: number | null;
  readonly maxMs: number | null;
}

export interface PathResult {
  readonly path: BenchPath;
  /** The client (sender unless --reverse) and server addresses as measured. */
  readonly clientIP: string | null;
  readonly serverIP: string;
  readonly tcp: TcpSummary;
  readonly udp?: UdpSummary;
  readonly latency?: LatencySummary;
}

export interface BenchNode {
  readonly name: string;
  readonly address: string | null;
  readonly kernel: string | null;
  readonly podCIDR: string | null;
}

export interface BenchResult {
  readonly apiVersion: typeof BENCH_API_VERSION;
  readonly kind: typeof BENCH_KIND;
  readonly schemaVersion: typeof BENCH_SCHEMA_VERSION;
  /** Also the flannelctl.io/bench-run label of its pods. */
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** True only for the virtual-cluster runner: the numbers are invented, not measured. */
  readonly simulated: boolean;
  readonly cluster: {
    /** net-conf.json Backend.Type, e.g. "vxlan" or "host-gw"; null when unknown. */
    readonly backend: string | null;
    readonly flannelVersion: string | null;
    /** FLANNEL_MTU from the client node's subnet.env, else the MTU the backend implies; null when unknown. */
    readonly mtu: number | null;
    readonly mtuSource: 'subnet.env' | 'backend' | null;
  };
  readonly client: BenchNode;
  readonly server: BenchNode;
  readonly settings: {
    readonly mode: BenchMode;
    readonly durationSeconds: number;
    readonly streams: number;
    readonly reverse: boolean;
    readonly repeat: number;
    readonly udpRateBitsPerSecond: number | null;
    readonly latencyCount: number;
    readonly image: string | null;
  };
  readonly results: readonly PathResult[];
  /** Pod throughput / host throughput (medians), with --mode both. */
  readonly overlayEfficiency: number | null;
}

export const pathResult = (result: BenchResult, path: BenchPath): PathResult | undefined =>
  result.results.find((r) => r.path === path);
