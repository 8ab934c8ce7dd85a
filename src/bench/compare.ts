// `bench compare A B`: B against A (before → after) for each path both measured: throughput, CPU per
// Gbit/s and RTT, as the relative changes an operator quotes ("host-gw vs vxlan: +18% throughput").
import { OperationError, UsageError } from '../errors.ts';
import {
  BENCH_API_VERSION,
  BENCH_KIND,
  BENCH_SCHEMA_VERSION,
  type BenchPath,
  type BenchResult,
} from './result.ts';
import { changePercent } from './stats.ts';

export interface MetricChange {
  readonly metric: string;
  readonly unit: string;
  readonly before: number | null;
  readonly after: number | null;
  /** (after - before) / before in percent; null when either is unknown. */
  readonly changePercent: number | null;
  /** Whether a higher number is better (throughput) or worse (CPU, RTT, loss). */
  readonly higherIsBetter: boolean;
}

export interface PathComparison {
  readonly path: BenchPath;
  readonly metrics: readonly MetricChange[];
}

export interface BenchComparison {
  readonly apiVersion: typeof BENCH_API_VERSION;
  readonly kind: 'BenchComparison';
  readonly before: { readonly file: string; readonly backend: string | null; readonly runId: string };
  readonly after: { readonly file: string; readonly backend: string | null; readonly runId: string };
  readonly paths: readonly PathComparison[];
  /** "host-gw vs vxlan: +18% throughput, −25% CPU, −40% latency" (pod path, else host). */
  readonly headline: string;
  readonly warnings: readonly string[];
}

/** Reads a saved result, refusing what is not one (exit 2: it is the user's input). */
export const parseBenchResult = (text: string, file: string): BenchResult => {
  let data: Partial<BenchResult>;
  try {
    data = JSON.parse(text) as Partial<BenchResult>;
  } catch (error) {
    throw new UsageError(`${file}: not JSON (${(error as Error).message})`);
  }
  if (data?.kind !== BENCH_KIND || data.apiVersion !== BENCH_API_VERSION)
    throw new UsageError(`${file}: not a ${BENCH_KIND} (save one with \`flannelctl bench --save FILE\`)`);
  if (data.schemaVersion !== BENCH_SCHEMA_VERSION)
    throw new UsageError(
      `${file}: ${BENCH_KIND} schema version ${String(data.schemaVersion)} is not supported (this flannelctl reads ${BENCH_SCHEMA_VERSION})`,
    );
  if (!Array.isArray(data.results) || data.results.length === 0)
    throw new OperationError(`${file}: the result holds no measurements`);
  return data as BenchResult;
};

/** CPU cost per Gbit/s: a faster path that uses as much CPU per byte is no cheaper. */
const cpuPerGbps = (cpu: number | undefined, gbps: number): number | null =>
  cpu === undefined || gbps <= 0 ? null : cpu / gbps;

const metric = (
  name: string,
  unit: string,
  before: number | null | undefined,
  after: number | null | undefined,
  higherIsBetter: boolean,
): MetricChange => ({
  metric: name,
  unit,
  before: before ?? null,
  after: after ?? null,
  changePercent: changePercent(before, after),
  higherIsBetter,
});

const signed = (n: number): string => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(0)}%`;

export const compareResults = (
  before: BenchResult,
  after: BenchResult,
  files: { before: string; after: string },
): BenchComparison => {
  const warnings: string[] = [];
  const pairKey = (r: BenchResult) => [r.client.name, r.server.name].join(' → ');
  if (pairKey(before) !== pairKey(after))
    warnings.push(`different node pairs: ${pairKey(before)} vs ${pairKey(after)}`);
  const settings = (r: BenchResult) =>
    `${r.settings.durationSeconds}s × ${r.settings.repeat}, ${r.settings.streams} stream(s)${r.settings.reverse ? ', reverse' : ''}`;
  if (settings(before) !== settings(after))
    warnings.push(`different settings: ${settings(before)} vs ${settings(after)}`);
  if (before.simulated || after.simulated)
    warnings.push('a simulated result is compared: numbers are not measured');

  const paths: PathComparison[] = [];
  for (const path of ['pod', 'host'] as const) {
    const a = before.results.find((r) => r.path === path);
    const b = after.results.find((r) => r.path === path);
    if (!a || !b) continue;
    const cpu = (r: typeof a) =>
      r.tcp.cpuSender && r.tcp.cpuReceiver ? r.tcp.cpuSender.median + r.tcp.cpuReceiver.median : undefined;
    paths.push({
      path,
      metrics: [
        metric('throughput', 'Gbit/s', a.tcp.gbps.median, b.tcp.gbps.median, true),
        metric('retransmits', '', a.tcp.retransmits?.median, b.tcp.retransmits?.median, false),
        metric('CPU sender', '%', a.tcp.cpuSender?.median, b.tcp.cpuSender?.median, false),
        metric('CPU receiver', '%', a.tcp.cpuReceiver?.median, b.tcp.cpuReceiver?.median, false),
        metric(
          'CPU per Gbit/s',
          '%',
          cpuPerGbps(cpu(a), a.tcp.gbps.median),
          cpuPerGbps(cpu(b), b.tcp.gbps.median),
          false,
        ),
        metric('RTT p50', 'ms', a.latency?.p50Ms, b.latency?.p50Ms, false),
        metric('RTT p90', 'ms', a.latency?.p90Ms, b.latency?.p90Ms, false),
        metric('RTT p99', 'ms', a.latency?.p99Ms, b.latency?.p99Ms, false),
        ...(a.udp && b.udp
          ? [
              metric('UDP jitter', 'ms', a.udp.jitterMs?.median, b.udp.jitterMs?.median, false),
              metric('UDP loss', '%', a.udp.lostPercent?.median, b.udp.lostPercent?.median, false),
            ]
          : []),
      ],
    });
  }
  if (paths.length === 0)
    throw new UsageError(
      `${files.before} and ${files.after} share no path (pod/host) to compare`,
      'measure both with the same --mode',
    );
  const main = paths[0]!;
  const change = (name: string) => main.metrics.find((m) => m.metric === name)?.changePercent ?? null;
  const parts = [
    [change('throughput'), 'throughput'],
    [change('CPU per Gbit/s'), 'CPU per Gbit/s'],
    [change('RTT p50'), 'latency'],
  ]
    .filter((p): p is [number, string] => p[0] !== null)
    .map(([n, what]) => `${signed(n)} ${what}`);
  const label = (r: BenchResult) => r.cluster.backend ?? 'unknown backend';
  const headline = `${label(after)} vs ${label(before)}${main.path === 'host' ? ' (host path)' : ''}: ${parts.join(', ') || 'nothing comparable'}`;
  return {
    apiVersion: BENCH_API_VERSION,
    kind: 'BenchComparison',
    before: { file: files.before, backend: before.cluster.backend, runId: before.runId },
    after: { file: files.after, backend: after.cluster.backend, runId: after.runId },
    paths,
    headline,
    warnings,
  };
};
