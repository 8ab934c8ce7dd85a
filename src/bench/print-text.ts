// Text printers for bench results and comparisons: kubectl-style columns, medians with their min–max,
// and a bar chart so a before/after difference is seen at a glance. Colour only when asked for.
import chalk, { Chalk } from 'chalk';
import type Table from 'cli-table3';
import { plainTable } from '../render/plain-table.ts';
import type { BenchComparison, MetricChange } from './compare.ts';
import type { BenchResult, PathResult } from './result.ts';
import type { Spread } from './stats.ts';
import type { Violation } from './thresholds.ts';

const table = plainTable;

const render = (t: Table.Table): string =>
  t
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');

const num = (n: number | null | undefined, digits = 2): string =>
  n === null || n === undefined ? '-' : n.toFixed(digits);

const withRange = (s: Spread | null, digits = 2): string =>
  !s
    ? '-'
    : s.values.length > 1
      ? `${num(s.median, digits)} (${num(s.min, digits)}–${num(s.max, digits)})`
      : num(s.median, digits);

const pair = (a: Spread | null, b: Spread | null): string =>
  !a && !b ? '-' : `${num(a?.median, 0)}% / ${num(b?.median, 0)}%`;

const rtt = (p: PathResult): string =>
  p.latency ? `${num(p.latency.p50Ms, 3)} / ${num(p.latency.p90Ms, 3)} / ${num(p.latency.p99Ms, 3)}` : '-';

const paint = (color: boolean) => (color ? chalk : new Chalk({ level: 0 }));

export const printResultText = (
  result: BenchResult,
  violations: readonly Violation[],
  color: boolean,
): string => {
  const c = paint(color);
  const s = result.settings;
  const flannel = [
    result.cluster.flannelVersion ? `flannel ${result.cluster.flannelVersion}` : 'flannel',
    result.cluster.backend ?? 'backend unknown',
  ].join(' ');
  const lines = [
    `${result.client.name} → ${result.server.name}: ${flannel}, MTU ${result.cluster.mtu ?? 'unknown'}, kernel ${result.client.kernel ?? 'unknown'}${result.simulated ? c.yellow(' (simulated: true — numbers are not measured)') : ''}`,
    `TCP ${s.durationSeconds}s × ${s.repeat} run(s), ${s.streams} stream(s)${s.reverse ? ', reverse (server sends)' : ''}; median (min–max); run ${result.runId}`,
    '',
  ];
  const t = table(['PATH', 'GBIT/S', 'RETR', 'CPU SND/RCV', 'NODE CPU SND/RCV', 'RTT P50/P90/P99 MS']);
  for (const p of result.results) {
    t.push([
      p.path,
      withRange(p.tcp.gbps),
      withRange(p.tcp.retransmits, 0),
      pair(p.tcp.cpuSender, p.tcp.cpuReceiver),
      pair(p.tcp.nodeCpuSender, p.tcp.nodeCpuReceiver),
      rtt(p),
    ]);
  }
  lines.push(render(t));
  const udp = result.results.filter((p) => p.udp);
  if (udp.length > 0) {
    lines.push('');
    const u = table([
      'PATH',
      `UDP AT ${num(udp[0]!.udp!.targetBitsPerSecond / 1e9)} GBIT/S`,
      'JITTER MS',
      'LOSS %',
    ]);
    for (const p of udp)
      u.push([
        p.path,
        withRange(p.udp!.gbps),
        withRange(p.udp!.jitterMs, 3),
        withRange(p.udp!.lostPercent, 2),
      ]);
    lines.push(render(u));
  }
  if (result.overlayEfficiency !== null) {
    lines.push(
      '',
      `Overlay efficiency: the pod network reaches ${c.bold(`${(result.overlayEfficiency * 100).toFixed(0)}%`)} of the node-to-node baseline.`,
    );
  }
  for (const v of violations) lines.push(c.red(`✗ ${v.flag}: ${v.message}`));
  return `${lines.join('\n')}\n`;
};

const BAR_WIDTH = 40;

/** One bar per side, scaled to the larger value. */
export const barChart = (
  rows: readonly { label: string; value: number; unit: string }[],
  width = BAR_WIDTH,
): string[] => {
  const max = Math.max(...rows.map((r) => r.value), 0);
  const labelWidth = Math.max(...rows.map((r) => r.label.length));
  return rows.map((r) => {
    const len = max > 0 ? Math.round((r.value / max) * width) : 0;
    return `${r.label.padEnd(labelWidth)}  ${'█'.repeat(len)}${' '.repeat(width - len)}  ${num(r.value, r.unit === 'ms' ? 3 : 2)} ${r.unit}`;
  });
};

const changeCell = (m: MetricChange, c: ReturnType<typeof paint>): string => {
  if (m.changePercent === null) return '-';
  const text = `${m.changePercent >= 0 ? '+' : '−'}${Math.abs(m.changePercent).toFixed(1)}%`;
  if (Math.abs(m.changePercent) < 0.05) return text;
  const better = m.changePercent > 0 === m.higherIsBetter;
  return better ? c.green(text) : c.red(text);
};

export const printComparisonText = (cmp: BenchComparison, color: boolean): string => {
  const c = paint(color);
  const name = (side: BenchComparison['before']) => `${side.backend ?? 'unknown'} (${side.file})`;
  const lines = [c.bold(cmp.headline), `before: ${name(cmp.before)}`, `after:  ${name(cmp.after)}`];
  for (const w of cmp.warnings) lines.push(c.yellow(`warning: ${w}`));
  for (const p of cmp.paths) {
    lines.push('', `${p.path} path`);
    const t = table(['METRIC', 'BEFORE', 'AFTER', 'CHANGE']);
    for (const m of p.metrics) {
      if (m.before === null && m.after === null) continue;
      const digits = m.unit === 'ms' ? 3 : m.unit === '' ? 0 : 2;
      const unit = m.unit && m.unit !== '%' ? ` ${m.unit}` : m.unit;
      t.push([
        m.metric,
        m.before === null ? '-' : `${num(m.before, digits)}${unit}`,
        m.after === null ? '-' : `${num(m.after, digits)}${unit}`,
        changeCell(m, c),
      ]);
    }
    lines.push(render(t));
    const tp = p.metrics.find((m) => m.metric === 'throughput')!;
    if (tp.before !== null && tp.after !== null) {
      lines.push(
        '',
        ...barChart([
          { label: cmp.before.backend ?? 'before', value: tp.before, unit: 'Gbit/s' },
          { label: cmp.after.backend ?? 'after', value: tp.after, unit: 'Gbit/s' },
        ]),
      );
    }
    const lat = p.metrics.find((m) => m.metric === 'RTT p50')!;
    if (lat.before !== null && lat.after !== null) {
      lines.push(
        ...barChart([
          { label: `${cmp.before.backend ?? 'before'} RTT`, value: lat.before, unit: 'ms' },
          { label: `${cmp.after.backend ?? 'after'} RTT`, value: lat.after, unit: 'ms' },
        ]),
      );
    }
  }
  return `${lines.join('\n')}\n`;
};
