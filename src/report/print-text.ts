// The human rendering of a Report: a table with one row per check, then the non-passing findings
// grouped by check (identical findings across nodes merged), each with its evidence and fix, then a
// one-line summary in cilium's style. The only module that colours output. Every text from the
// cluster or a node is made printable before chalk styles it (annotations, log lines, messages).
import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import { listSome } from '../checks/finding.ts';
import type { Severity } from '../checks/types.ts';
import { groupFindings, type FindingGroup } from './group.ts';
import { printable } from './printable.ts';
import type { Report } from './report.ts';

export interface TextOptions {
  readonly color: boolean;
  /** Nodes named per group before "and N more". */
  readonly maxNodes?: number;
  /** Evidence lines shown per group. */
  readonly maxEvidence?: number;
}

const LABEL: Record<Severity, string> = {
  pass: 'PASS',
  info: 'INFO',
  warn: 'WARN',
  fail: 'FAIL',
  error: 'ERROR',
  skipped: 'SKIP',
};

const paint = (chalk: ChalkInstance, severity: Severity, text: string): string => {
  switch (severity) {
    case 'pass':
      return chalk.green(text);
    case 'info':
      return chalk.cyan(text);
    case 'warn':
      return chalk.yellow(text);
    case 'fail':
    case 'error':
      return chalk.red.bold(text);
    case 'skipped':
      return chalk.gray(text);
  }
};

const nodesOf = (report: Report, check: string, severity: Severity): Set<string> =>
  new Set(
    report.findings.filter((f) => f.check === check && f.severity === severity && f.node).map((f) => f.node!),
  );

const where = (g: FindingGroup, maxNodes: number): string => {
  if (g.nodes.length === 0) return 'cluster';
  if (g.nodes.length === 1 && g.peers.length > 0) return `${g.nodes[0]} → ${listSome(g.peers, maxNodes)}`;
  const nodes = `${g.nodes.length === 1 ? '' : `${g.nodes.length} nodes: `}${listSome(g.nodes, maxNodes)}`;
  return g.peers.length > 1 ? `${nodes} → ${g.peers.length} peers` : nodes;
};

export const printText = (report: Report, options: TextOptions): string => {
  const chalk = new Chalk({ level: options.color ? 1 : 0 });
  const maxNodes = options.maxNodes ?? 5;
  const maxEvidence = options.maxEvidence ?? 6;
  const out: string[] = [];
  const eb = report.expectedBackend;
  out.push(printable(`Expected backend: ${eb.value ?? 'unknown'} (${eb.reason})`));
  const unreachable = report.nodes.filter((n) => !n.reachable);
  const unreachableNames = new Set(unreachable.map((n) => n.name));
  for (const n of unreachable) {
    out.push(
      chalk.red(
        printable(
          `Node ${n.name} unreachable: ${n.issue ? `${n.issue.kind}: ${n.issue.message}` : 'no facts'}`,
        ),
      ),
    );
  }
  out.push('');
  const table = new Table({
    head: ['STATUS', 'CHECK', 'RESULT'],
    style: { head: [], border: [], compact: true },
  });
  for (const check of report.checks) {
    const counts = (['fail', 'error', 'warn', 'info', 'pass', 'skipped'] as const)
      .map((s) => {
        const findings = report.findings.filter((f) => f.check === check.id && f.severity === s);
        if (findings.length === 0) return null;
        const nodes = nodesOf(report, check.id, s).size;
        return `${findings.length} ${s}${nodes > 0 && nodes !== findings.length ? ` on ${nodes} node${nodes === 1 ? '' : 's'}` : ''}`;
      })
      .filter(Boolean)
      .join(', ');
    table.push([
      paint(chalk, check.status, LABEL[check.status]),
      printable(`${check.id} (${check.title})`),
      counts,
    ]);
  }
  out.push(table.toString(), '');
  for (const check of report.checks) {
    const groups = groupFindings(
      // Skips caused by an unreachable node are stated once at the top, not once per check.
      report.findings.filter(
        (f) =>
          f.check === check.id &&
          f.severity !== 'pass' &&
          !(f.severity === 'skipped' && f.node && unreachableNames.has(f.node)),
      ),
    );
    if (groups.length === 0) continue;
    out.push(chalk.bold(printable(`${check.id}: ${check.title}`)));
    for (const g of groups) {
      const label = paint(chalk, g.severity, LABEL[g.severity].padEnd(5));
      const times = g.count > 1 ? ` ×${g.count}` : '';
      out.push(`  ${label} ${printable(`${g.code}${times}  ${where(g, maxNodes)}`)}`);
      out.push(
        `        ${printable(`${g.example.message}${g.count > 1 ? ` (e.g. ${g.example.node ?? 'cluster'}${g.example.peer ? ` → ${g.example.peer}` : ''})` : ''}`)}`,
      );
      const evidence = g.example.evidence.filter((e) => e !== '');
      for (const line of evidence.slice(0, maxEvidence)) out.push(chalk.dim(`          ${printable(line)}`));
      if (evidence.length > maxEvidence)
        out.push(chalk.dim(`          … ${evidence.length - maxEvidence} more lines`));
      if (g.example.remediation)
        out.push(`        ${chalk.bold('fix:')} ${printable(g.example.remediation)}`);
    }
    out.push('');
  }
  out.push(summaryLine(report));
  return `${out.join('\n')}\n`;
};

/** `✅ 9 checks passed, 1 skipped` / `❌ 2 of 10 checks failed on 3 of 5 nodes`. */
export const summaryLine = (report: Report): string => {
  const total = report.checks.length;
  const failed = report.checks.filter((c) => c.status === 'fail' || c.status === 'error').length;
  const warned = report.checks.filter((c) => c.status === 'warn').length;
  const skipped = report.checks.filter((c) => c.status === 'skipped').length;
  const passed = total - failed - warned - skipped;
  const unreachable = report.nodes.filter((n) => !n.reachable).length;
  const nodeTotal = report.nodes.length;
  const tail = [
    skipped > 0 ? `${skipped} skipped` : null,
    unreachable > 0 ? `${unreachable} of ${nodeTotal} nodes unreachable` : null,
  ].filter(Boolean);
  const suffix = tail.length > 0 ? `, ${tail.join(', ')}` : '';
  const plural = (n: number) => `${n} check${n === 1 ? '' : 's'}`;
  if (failed > 0) {
    const bad = new Set(
      report.findings
        .filter((f) => (f.severity === 'fail' || f.severity === 'error') && f.node)
        .map((f) => f.node!),
    );
    const on = bad.size > 0 ? ` on ${bad.size} of ${nodeTotal} node${nodeTotal === 1 ? '' : 's'}` : '';
    return `❌ ${failed} of ${plural(total)} failed${on}${suffix}`;
  }
  if (warned > 0) return `⚠️  ${plural(passed)} passed, ${warned} with warnings${suffix}`;
  return `✅ ${plural(passed)} passed${suffix}`;
};
