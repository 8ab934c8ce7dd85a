import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ALL_CHECKS } from '../../src/checks/registry.ts';
import { rpFilterCheck } from '../../src/checks/rp-filter.ts';
import type { NodeFacts } from '../../src/facts/node-facts.ts';
import { buildClusterFacts } from '../../src/facts/cluster-facts.ts';
import { printJson } from '../../src/report/print-json.ts';
import { escapeXml, printJunit } from '../../src/report/print-junit.ts';
import { printText, summaryLine } from '../../src/report/print-text.ts';
import { buildReport } from '../../src/report/report.ts';
import { editNode, healthyInput, loadProbeFacts } from '../helpers/cluster-facts-fixtures.ts';

const NOW = new Date('2026-11-26T10:00:00.000Z');
const GOLDEN = join(import.meta.dirname, '..', '..', 'fixtures', 'reports', 'doctor-host-gw-faults.txt');

/** node-1 strict rp_filter, node-2 without a route to node-1 and ip_forward off, node-3 unreachable. */
const faultyReport = () => {
  const input = healthyInput('host-gw');
  let facts = buildClusterFacts({
    ...input,
    nodes: [
      ...input.nodes!.slice(0, 2),
      {
        node: 'node-3',
        ok: false,
        issue: { node: 'node-3', kind: 'unreachable', message: 'connect ETIMEDOUT 192.168.77.13:22' },
      },
    ],
  });
  facts = editNode(facts, 'node-1', (f) => ({
    ...f,
    sysctls: {
      ...f.sysctls!,
      rpFilter: { ...f.sysctls!.rpFilter, interfaces: { ...f.sysctls!.rpFilter.interfaces, eth0: 1 } },
    },
  }));
  facts = editNode(facts, 'node-2', (f): NodeFacts => ({
    ...f,
    routes: (f.routes ?? []).filter((r) => r.dst !== '10.244.1.0/24'),
    sysctls: { ...f.sysctls!, ipForward: 0 },
  }));
  return buildReport(facts, ALL_CHECKS, { now: NOW });
};

describe('text printer', () => {
  it('matches the golden output without colour', () => {
    const text = printText(faultyReport(), { color: false });
    if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, text);
    assert.equal(text, readFileSync(GOLDEN, 'utf8'));
    assert.doesNotMatch(text, new RegExp(String.fromCharCode(27) + '\\['));
  });

  it('colours severities only when asked', () => {
    assert.match(printText(faultyReport(), { color: true }), new RegExp(String.fromCharCode(27) + '\\['));
  });

  it('stays compact at 1,000 nodes: identical findings are grouped, not listed', () => {
    const template = loadProbeFacts('iproute2-6.1.0/host-gw');
    const strict = { ...template.sysctls!, rpFilter: { ...template.sysctls!.rpFilter, all: 1 } };
    const nodes = Array.from({ length: 1000 }, (_, i) => ({
      name: `node-${i + 1}`,
      facts: { ...template, name: `node-${i + 1}`, address: null, sysctls: strict },
    }));
    const report = buildReport(buildClusterFacts({ nodes }), [rpFilterCheck], { now: NOW });
    assert.equal(report.findings.length, 1000);
    const text = printText(report, { color: false });
    assert.ok(text.split('\n').length < 30, text);
    assert.match(
      text,
      /WARN {2}rp-filter\/strict-symmetric ×1000 {2}1000 nodes: node-1, node-2, node-3, node-4, node-5 and 995 more/,
    );
    assert.equal(summaryLine(report), '⚠️  0 checks passed, 1 with warnings');
  });

  it('summarises failures in cilium style', () => {
    assert.equal(
      summaryLine(faultyReport()),
      '❌ 2 of 16 checks failed on 1 of 3 nodes, 1 of 3 nodes unreachable',
    );
  });
});

describe('JSON printer', () => {
  it('prints the Report itself', () => {
    const report = faultyReport();
    assert.deepEqual(JSON.parse(printJson(report)), JSON.parse(JSON.stringify(report)));
  });
});

describe('JUnit printer', () => {
  it('has one testcase per check × node with failure, skipped and system-out elements', () => {
    const xml = printJunit(faultyReport());
    assert.ok(
      xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="flannelctl DoctorReport" '),
    );
    const suite = (id: string) =>
      new RegExp(`<testsuite name="${id}"[^>]*>([\\s\\S]*?)</testsuite>`).exec(xml)?.[1] ?? '';
    const cases = (id: string) =>
      [...suite(id).matchAll(/<testcase classname="flannelctl\.[a-z0-9-]+" name="([^"]+)"/g)].map(
        (m) => m[1],
      );
    assert.deepEqual(cases('routes'), ['node-1', 'node-2', 'node-3']);
    assert.match(
      suite('routes'),
      /name="node-2" time="0">\n {6}<failure message="node-2 has no route to node-1&apos;s podCIDR 10\.244\.1\.0\/24: pods there are unreachable from node-2" type="routes\/missing">/,
    );
    assert.match(
      suite('routes'),
      /name="node-3" time="0">\n {6}<skipped message="no facts from node-3: unreachable: connect ETIMEDOUT 192\.168\.77\.13:22"\/>/,
    );
    assert.match(
      suite('rp-filter'),
      /name="node-1" time="0">\n {6}<system-out>\[warn\] rp-filter\/strict-symmetric/,
    );
    assert.match(xml, /<testsuite name="kernel" tests="3" failures="1" errors="0" skipped="1" /);
    const totals = /<testsuites [^>]*tests="(\d+)" failures="(\d+)" errors="(\d+)" skipped="(\d+)"/.exec(
      xml,
    )!;
    assert.deepEqual(totals.slice(1), ['38', '2', '0', '9']);
  });

  it('escapes markup and strips characters XML cannot carry', () => {
    assert.equal(
      escapeXml(`a<b>&"c"'d'\u0000\u001b`),
      'a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;\uFFFD\uFFFD',
    );
  });
});
