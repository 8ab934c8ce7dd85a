import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALL_CHECKS, CHECK_IDS, selectChecks } from '../../src/checks/registry.ts';
import type { Check } from '../../src/checks/types.ts';
import { UsageError } from '../../src/errors.ts';
import { buildClusterFacts } from '../../src/facts/cluster-facts.ts';
import { REPORT_SCHEMA } from '../../src/report/report-schema.ts';
import { buildReport, exitCodeFor } from '../../src/report/report.ts';
import { editNode, healthyCluster, healthyInput } from '../helpers/cluster-facts-fixtures.ts';
import { validateSchema, type Schema } from '../helpers/json-schema.ts';

const NOW = new Date('2026-11-26T10:00:00.000Z');

const unreachableNode3 = () => {
  const input = healthyInput('host-gw');
  return buildClusterFacts({
    ...input,
    nodes: [
      ...input.nodes!.slice(0, 2),
      {
        node: 'node-3',
        ok: false,
        issue: { node: 'node-3', kind: 'auth', message: 'all authentication methods failed' },
      },
    ],
  });
};

describe('buildReport', () => {
  it('runs the checks in registry order and summarises a healthy cluster', () => {
    const report = buildReport(healthyCluster('host-gw'), ALL_CHECKS, { now: NOW });
    assert.equal(report.apiVersion, 'flannelctl/v1');
    assert.equal(report.kind, 'DoctorReport');
    assert.equal(report.generatedAt, '2026-11-26T10:00:00.000Z');
    assert.deepEqual(
      report.checks.map((c) => c.id),
      [...CHECK_IDS],
    );
    assert.deepEqual(report.summary, { pass: 35, info: 3, warn: 0, fail: 0, error: 0, skipped: 0 });
    assert.deepEqual(report.cluster, {
      namespace: 'kube-flannel',
      daemonSet: 'kube-flannel-ds',
      image: 'ghcr.io/flannel-io/flannel:v0.28.9',
      network: '10.244.0.0/16',
      nodeCount: 3,
    });
    assert.deepEqual(report.expectedBackend, {
      value: 'host-gw',
      source: 'configmap',
      reason: 'Backend.Type in net-conf.json of ConfigMap kube-flannel/kube-flannel-cfg',
    });
    assert.equal(exitCodeFor(report), 0);
  });

  it('records unreachable nodes with their issue and exits 3 when nothing fails', () => {
    const report = buildReport(unreachableNode3(), ALL_CHECKS, { now: NOW });
    assert.deepEqual(
      report.nodes.find((n) => n.name === 'node-3'),
      {
        name: 'node-3',
        reachable: false,
        issue: { kind: 'auth', message: 'all authentication methods failed' },
      },
    );
    assert.equal(exitCodeFor(report), 3);
  });

  it('prefers 1 (failing) over 3 (incomplete), and --fail-on warn fails on warnings', () => {
    const failing = editNode(unreachableNode3(), 'node-1', (f) => ({
      ...f,
      sysctls: { ...f.sysctls!, ipForward: 0 },
    }));
    assert.equal(exitCodeFor(buildReport(failing, ALL_CHECKS, { now: NOW })), 1);
    const warning = editNode(healthyCluster('host-gw'), 'node-1', (f) => ({
      ...f,
      sysctls: { ...f.sysctls!, rpFilter: { ...f.sysctls!.rpFilter, all: 1 } },
    }));
    const report = buildReport(warning, ALL_CHECKS, { now: NOW });
    assert.equal(exitCodeFor(report), 0);
    assert.equal(exitCodeFor(report, { failOn: 'warn' }), 1);
  });

  it('skips checks whose needs are missing, with the reason, without failing the run', () => {
    const input = healthyInput('host-gw');
    const report = buildReport(buildClusterFacts({ nodes: input.nodes! }), ALL_CHECKS, { now: NOW });
    const skipped = report.findings.filter((f) => f.severity === 'skipped');
    assert.deepEqual(
      skipped.map((f) => `${f.code}: ${f.message}`),
      [
        'flannel-health/skipped: no Kubernetes API facts (running from an inventory only)',
        'config/skipped: no Kubernetes API facts (running from an inventory only)',
        'annotations/skipped: no Kubernetes API facts (running from an inventory only)',
        'ip-masq/skipped: no Kubernetes API facts (running from an inventory only)',
        'host-gw/skipped: no Kubernetes API facts (running from an inventory only)',
        'mixed-window/skipped: no Kubernetes API facts (running from an inventory only)',
        'flannel-logs/skipped: no Kubernetes API facts (running from an inventory only)',
        'pod-sandbox/skipped: no Kubernetes API facts (running from an inventory only)',
      ],
    );
    assert.equal(report.expectedBackend.source, 'inferred');
    assert.equal(report.cluster, undefined);
    assert.equal(exitCodeFor(report), 0);
  });

  it('turns a check that throws into an error finding and an incomplete exit', () => {
    const broken: Check = {
      id: 'broken',
      title: 'Broken',
      description: 'throws',
      needs: [],
      evaluate: () => {
        throw new Error('boom');
      },
    };
    const report = buildReport(healthyCluster('host-gw'), [broken], { now: NOW });
    assert.equal(report.findings[0]!.code, 'broken/internal-error');
    assert.equal(report.findings[0]!.message, 'The broken check failed: boom');
    assert.equal(report.checks[0]!.status, 'error');
    assert.equal(exitCodeFor(report), 3);
  });

  it('produces reports that conform to the JSON schema', () => {
    const reports = [
      buildReport(healthyCluster('vxlan'), ALL_CHECKS, { now: NOW }),
      buildReport(unreachableNode3(), ALL_CHECKS, { now: NOW, kind: 'VerifyL2Report' }),
      buildReport(buildClusterFacts({}), ALL_CHECKS, { now: NOW }),
    ];
    for (const report of reports) {
      assert.deepEqual(validateSchema(REPORT_SCHEMA as Schema, JSON.parse(JSON.stringify(report))), []);
    }
  });

  it('the schema rejects what the contract forbids', () => {
    const report = JSON.parse(
      JSON.stringify(buildReport(healthyCluster('host-gw'), ALL_CHECKS, { now: NOW })),
    );
    report.findings[0].severity = 'critical';
    report.apiVersion = 'flannelctl/v2';
    delete report.summary.skipped;
    assert.deepEqual(validateSchema(REPORT_SCHEMA as Schema, report), [
      '$.apiVersion: expected "flannelctl/v1"',
      '$.summary: missing skipped',
      '$.findings[0].severity: "critical" not in ["pass","info","warn","fail","error","skipped"]',
    ]);
  });
});

describe('selectChecks', () => {
  it('selects by --checks and --skip in registry order', () => {
    assert.deepEqual(
      selectChecks({ checks: ['mtu', 'routes'] }).map((c) => c.id),
      ['routes', 'mtu'],
    );
    assert.ok(!selectChecks({ skip: ['tune'] }).some((c) => c.id === 'tune'));
  });

  it('rejects unknown ids naming the valid ones', () => {
    assert.throws(
      () => selectChecks({ checks: ['rpfilter'] }),
      (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.equal(e.message, 'unknown check "rpfilter"');
        assert.match(e.hint!, /rp-filter/);
        return true;
      },
    );
  });
});
