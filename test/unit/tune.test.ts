// The tuning advice: which of the guide's settings tune recommends, what --apply would change on a
// node, what it refuses to set, and what it reports (check findings, the per-setting JSON).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  TUNE_AGAINST_ADVICE_FILE,
  TUNE_SETTINGS,
  TUNE_SYSCTL_FILE,
  tuneChanges,
  tuneCheck,
  tuneSettingsReport,
} from '../../src/checks/tune.ts';
import { selectTuneSettings, tuneSysctlChanges, tuneTable } from '../../src/diagnose/tune.ts';
import { UsageError } from '../../src/errors.ts';
import type { NodeFacts, Sysctls } from '../../src/facts/node-facts.ts';
import { parseSysctls } from '../../src/facts/parse/sysctl.ts';
import { buildReport } from '../../src/report/report.ts';
import { REPORT_SCHEMA } from '../../src/report/report-schema.ts';
import { editNode, healthyCluster, loadProbeFacts, problems } from '../helpers/cluster-facts-fixtures.ts';
import { validateSchema, type Schema } from '../helpers/json-schema.ts';

/** The recorded node: buffers at the kernel defaults, bbr on, tcp_fastopen 1, no route.max_size. */
const recorded = (): Sysctls => loadProbeFacts('iproute2-6.1.0/host-gw').sysctls!;
const withSysctls = (fields: Partial<Sysctls>) => (f: NodeFacts) => ({
  ...f,
  sysctls: { ...f.sysctls!, ...fields },
});
const targets = ['node-1', 'node-2', 'node-3'].map((name, i) => ({ name, address: `192.168.77.${11 + i}` }));
const keys = (changes: readonly { key: string }[]) => changes.map((c) => c.key);

describe('tune advice', () => {
  it('recommends only the buffer ceilings; default buffers, bbr, fastopen and route.max_size are not, conntrack is informational', () => {
    assert.deepEqual(
      Object.fromEntries(TUNE_SETTINGS.map((t) => [t.key, `${t.guide} ${t.verdict} ${t.scope}`])),
      {
        'net.core.rmem_max': '134217728 recommended global',
        'net.core.wmem_max': '134217728 recommended global',
        'net.core.rmem_default': '134217728 not-recommended global',
        'net.core.wmem_default': '134217728 not-recommended global',
        'net.ipv4.tcp_congestion_control': 'bbr not-recommended netns',
        'net.netfilter.nf_conntrack_max': '1000000 informational global',
        'net.ipv4.tcp_fastopen': '3 not-recommended netns',
        'net.ipv4.route.max_size': '1048576 not-recommended global',
      },
    );
    const reason = (key: string) => TUNE_SETTINGS.find((t) => t.key === key)!.reason;
    assert.match(reason('net.core.rmem_default'), /every UDP, unix and netlink socket .* every pod/);
    assert.match(reason('net.ipv4.tcp_congestion_control'), /when the pod is created/);
    assert.match(reason('net.ipv4.tcp_fastopen'), /every new pod starts at 1/);
    assert.match(reason('net.netfilter.nf_conntrack_max'), /kube-proxy.*conntrack\.maxPerCore/);
    assert.match(reason('net.ipv4.route.max_size'), /since Linux 3\.6/);
  });

  it('a node at the kernel defaults would change only rmem_max and wmem_max', () => {
    const s = { ...recorded(), tcpCongestionControl: 'cubic', tcpFastopen: 1, conntrackMax: 65536 };
    assert.deepEqual(tuneChanges(s), [
      { key: 'net.core.rmem_max', current: 4194304, value: 134217728 },
      { key: 'net.core.wmem_max', current: 4194304, value: 134217728 },
    ]);
    assert.deepEqual(tuneChanges({ ...s, rmemMax: 268435456 }).length, 1, 'a larger ceiling is fine');
  });

  it('the check lists the differing recommended settings per node, nothing it does not recommend', () => {
    const findings = tuneCheck.evaluate(healthyCluster('host-gw'));
    assert.deepEqual(problems(findings), [
      'info tune/recommendation node-1',
      'info tune/recommendation node-2',
      'info tune/recommendation node-3',
    ]);
    assert.deepEqual(findings[0]!.evidence, [
      'net.core.rmem_max = 4194304 (recommended 134217728)',
      'net.core.wmem_max = 4194304 (recommended 134217728)',
    ]);
    assert.match(
      findings[0]!.remediation!,
      /^sysctl -w net\.core\.rmem_max=134217728 net\.core\.wmem_max=134217728 && /,
    );
  });

  it('a key the node cannot write (a container netns) is not a change: the host has to set it', () => {
    const readOnly = ['net.core.rmem_max', 'net.core.wmem_max', 'net.netfilter.nf_conntrack_max'];
    const facts = editNode(healthyCluster('host-gw'), 'node-2', withSysctls({ readOnly }));
    assert.deepEqual(tuneChanges(facts.nodes[1]!.facts!.sysctls!), []);
    const findings = tuneCheck.evaluate(facts).filter((f) => f.node === 'node-2');
    assert.deepEqual(problems(findings), ['info tune/host-only node-2']);
    assert.match(findings[0]!.message, /read-only in its network namespace .*only the host can set them/);
    assert.deepEqual(
      tuneSysctlChanges(facts, targets).map((c) => c.node.name),
      ['node-1', 'node-3'],
    );
  });

  it('default buffers as large as the guide says are a warning', () => {
    const facts = editNode(healthyCluster('host-gw'), 'node-3', withSysctls({ rmemDefault: 134217728 }));
    const warn = tuneCheck.evaluate(facts).find((f) => f.severity === 'warn')!;
    assert.equal(warn.code, 'tune/large-default-buffers');
    assert.equal(warn.node, 'node-3');
    assert.deepEqual(warn.evidence, ['net.core.rmem_default = 134217728']);
  });

  it('skips the node whose sysctls could not be read, with the section error', () => {
    const facts = editNode(healthyCluster('host-gw'), 'node-2', (f) => ({
      ...f,
      sysctls: null,
      errors: [{ section: 'sysctl', kind: 'failed', exitCode: 1, message: 'permission denied' }],
    }));
    const skipped = tuneCheck.evaluate(facts).filter((f) => f.severity === 'skipped');
    assert.deepEqual(
      skipped.map((f) => f.message),
      ['sysctls could not be read on node-2: sysctl: failed (permission denied)'],
    );
  });

  it('the probe marks read-only keys; the parser keeps them by dotted name', () => {
    const s = parseSysctls(
      ['net/core/rmem_max!readonly', 'net/ipv4/route/max_size!missing', 'net/core/rmem_max:212992'].join(
        '\n',
      ),
    );
    assert.deepEqual(s.readOnly, ['net.core.rmem_max']);
    assert.equal(s.rmemMax, 212992);
    assert.equal(parseSysctls('net/core/rmem_max:212992').readOnly, undefined);
  });
});

describe('tune --apply selection', () => {
  const refused = (names: string[], flags = {}) => {
    try {
      selectTuneSettings({ apply: true, ...flags }, names);
    } catch (error) {
      assert.ok(error instanceof UsageError, String(error));
      return `${error.message} | ${error.hint ?? ''}`;
    }
    return assert.fail(`${names.join(' ')} was accepted`);
  };

  it('--apply alone sets the recommended settings, never the others', () => {
    const { settings, againstAdvice } = selectTuneSettings({ apply: true }, []);
    assert.deepEqual(keys(settings), ['net.core.rmem_max', 'net.core.wmem_max']);
    assert.equal(againstAdvice, false);
  });

  it('a named setting that is not recommended is refused with the reason, unless --against-advice', () => {
    assert.match(
      refused(['net.core.rmem_max', 'net.core.rmem_default']),
      /^net\.core\.rmem_default is not recommended: Global, .* \| to set it anyway: flannelctl tune --apply net\.core\.rmem_default --against-advice$/,
    );
    const picked = selectTuneSettings({ apply: true, againstAdvice: true }, [
      'net.ipv4.tcp_fastopen',
      'net.ipv4.tcp_fastopen',
    ]);
    assert.deepEqual(keys(picked.settings), ['net.ipv4.tcp_fastopen']);
    assert.equal(picked.againstAdvice, true);
  });

  it('informational and unknown names are refused even with --against-advice', () => {
    assert.match(
      refused(['net.netfilter.nf_conntrack_max'], { againstAdvice: true }),
      /^tune does not set net\.netfilter\.nf_conntrack_max: Managed by kube-proxy/,
    );
    assert.match(
      refused(['net.core.somaxconn'], { againstAdvice: true }),
      /unknown setting .* \| tune knows net\.core\.rmem_max, /,
    );
  });

  it('--against-advice needs named settings, and names need --apply', () => {
    assert.match(refused([], { againstAdvice: true }), /applies only to settings you name/);
    assert.match(refused(['net.core.rmem_max'], { apply: false }), /setting names go with --apply/);
  });

  it('settings applied against advice go to their own drop-in, and bbr only where the kernel offers it', () => {
    const facts = editNode(
      editNode(healthyCluster('host-gw'), 'node-1', withSysctls({ tcpCongestionControl: 'cubic' })),
      'node-2',
      withSysctls({ tcpCongestionControl: 'cubic', tcpAvailableCongestionControl: ['reno', 'cubic'] }),
    );
    const selection = selectTuneSettings({ apply: true, againstAdvice: true }, [
      'net.ipv4.tcp_congestion_control',
      'net.ipv4.tcp_fastopen',
    ]);
    const changes = tuneSysctlChanges(facts, targets, selection);
    assert.deepEqual(
      changes.map((c) => [c.node.name, c.file, c.settings.map(([k, v]) => `${k}=${v}`).join(' ')]),
      [
        ['node-1', TUNE_AGAINST_ADVICE_FILE, 'net.ipv4.tcp_congestion_control=bbr net.ipv4.tcp_fastopen=3'],
        ['node-2', TUNE_AGAINST_ADVICE_FILE, 'net.ipv4.tcp_fastopen=3'],
        ['node-3', TUNE_AGAINST_ADVICE_FILE, 'net.ipv4.tcp_fastopen=3'],
      ],
    );
    assert.ok(tuneSysctlChanges(facts, targets).every((c) => c.file === TUNE_SYSCTL_FILE));
  });
});

describe('tune output', () => {
  it("the table shows the guide's value, the verdict and the reason for every setting", () => {
    const text = tuneTable(healthyCluster('host-gw'));
    assert.match(text, /net\.core\.rmem_max +│ 134217728 +│ recommended +│ 4194304/);
    assert.match(text, /net\.core\.rmem_default +│ 134217728 +│ not recommended +│ 212992/);
    assert.match(text, /net\.netfilter\.nf_conntrack_max +│ 1000000 +│ informational +│ 262144/);
    assert.match(text, /net\.ipv4\.route\.max_size +│ 1048576 +│ not recommended +│ absent/);
    for (const t of TUNE_SETTINGS) assert.ok(text.includes(`  ${t.key} (`), t.key);
  });

  it('the JSON advice groups nodes that share a value', () => {
    const facts = editNode(healthyCluster('host-gw'), 'node-2', withSysctls({ tcpFastopen: 3 }));
    const fastopen = tuneSettingsReport(facts).find((t) => t.key === 'net.ipv4.tcp_fastopen')!;
    assert.equal(fastopen.verdict, 'not-recommended');
    assert.equal(fastopen.guide, 3);
    assert.deepEqual(fastopen.values, [
      { current: 1, nodes: ['node-1', 'node-3'] },
      { current: 3, nodes: ['node-2'] },
    ]);
    const report = {
      ...buildReport(facts, [tuneCheck], { kind: 'TuneReport' }),
      tuneSettings: tuneSettingsReport(facts),
    };
    assert.deepEqual(validateSchema(REPORT_SCHEMA as Schema, JSON.parse(JSON.stringify(report))), []);
  });
});
