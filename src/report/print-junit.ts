// JUnit XML for CI: one <testsuite> per check, one <testcase> per check × node ("cluster" for
// cluster-wide findings). fail → <failure>, error → <error>, only-skipped → <skipped>; warnings and
// info pass but are listed in <system-out>. Shaped for Jenkins, GitLab and GitHub test reporters.
import { worstSeverity, type Finding } from '../checks/types.ts';
import type { Report } from './report.ts';

// Characters XML 1.0 forbids even when escaped.
const INVALID_XML =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export const escapeXml = (text: string): string =>
  text
    .replace(INVALID_XML, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');

const describe = (f: Finding): string =>
  [
    `[${f.severity}] ${f.code}${f.peer ? ` (peer ${f.peer})` : ''}: ${f.message}`,
    ...f.evidence.map((e) => `  ${e}`),
    ...(f.remediation ? [`  fix: ${f.remediation}`] : []),
  ].join('\n');

interface Case {
  readonly name: string;
  readonly findings: Finding[];
}

export const printJunit = (report: Report): string => {
  const suites: string[] = [];
  const totals = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const check of report.checks) {
    const cases = new Map<string, Case>();
    for (const f of report.findings) {
      if (f.check !== check.id) continue;
      const name = f.node ?? 'cluster';
      if (!cases.has(name)) cases.set(name, { name, findings: [] });
      cases.get(name)!.findings.push(f);
    }
    if (cases.size === 0) cases.set('cluster', { name: 'cluster', findings: [] });
    const counts = { tests: 0, failures: 0, errors: 0, skipped: 0 };
    const body: string[] = [];
    for (const c of cases.values()) {
      counts.tests++;
      const worst = worstSeverity(c.findings.map((f) => f.severity));
      const open = `    <testcase classname="${escapeXml(`flannelctl.${check.id}`)}" name="${escapeXml(c.name)}" time="0"`;
      const bad = c.findings.filter((f) => f.severity === worst);
      const notes = c.findings.filter((f) => f.severity === 'warn' || f.severity === 'info');
      const inner: string[] = [];
      if (worst === 'fail' || worst === 'error') {
        const tag = worst === 'fail' ? 'failure' : 'error';
        if (worst === 'fail') counts.failures++;
        else counts.errors++;
        inner.push(
          `      <${tag} message="${escapeXml(bad[0]!.message)}" type="${escapeXml(bad[0]!.code)}">${escapeXml(
            c.findings
              .filter((f) => f.severity !== 'pass')
              .map(describe)
              .join('\n\n'),
          )}</${tag}>`,
        );
      } else if (worst === 'skipped' && c.findings.length > 0) {
        counts.skipped++;
        inner.push(`      <skipped message="${escapeXml(c.findings[0]!.message)}"/>`);
      } else if (notes.length > 0) {
        inner.push(`      <system-out>${escapeXml(notes.map(describe).join('\n\n'))}</system-out>`);
      }
      body.push(inner.length > 0 ? `${open}>\n${inner.join('\n')}\n    </testcase>` : `${open}/>`);
    }
    totals.tests += counts.tests;
    totals.failures += counts.failures;
    totals.errors += counts.errors;
    totals.skipped += counts.skipped;
    suites.push(
      `  <testsuite name="${escapeXml(check.id)}" tests="${counts.tests}" failures="${counts.failures}" errors="${counts.errors}" skipped="${counts.skipped}" time="0" timestamp="${escapeXml(report.generatedAt.replace(/\.\d+Z$/, ''))}">\n${body.join('\n')}\n  </testsuite>`,
    );
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="flannelctl ${escapeXml(report.kind)}" tests="${totals.tests}" failures="${totals.failures}" errors="${totals.errors}" skipped="${totals.skipped}" time="0">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
};
