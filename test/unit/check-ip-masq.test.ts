import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ipMasqCheck } from '../../src/checks/ip-masq.ts';
import { bridgeMasquerades, flannelPlugin, parseCniConf } from '../../src/flannel/cni-conf.ts';
import { buildClusterFacts } from '../../src/facts/cluster-facts.ts';
import {
  UPSTREAM_CNI_CONF,
  configMap,
  flannelDaemonSet,
  healthyInput,
  problems,
} from '../helpers/cluster-facts-fixtures.ts';

const NET_CONF = { Network: '10.244.0.0/16', Backend: { Type: 'host-gw' } };

/** Facts of a host-gw cluster whose flanneld has `args` and whose cni-conf.json is `cniConf`. */
const cluster = (args: string[], cniConf: string = UPSTREAM_CNI_CONF) => {
  const input = healthyInput('host-gw');
  const ds = flannelDaemonSet(3);
  ds.spec.template.spec.containers[0]!.args = args;
  const cm = configMap(NET_CONF);
  cm.data['cni-conf.json'] = cniConf;
  return buildClusterFacts({ ...input, api: { ...input.api!, daemonSet: ds, configMap: cm } });
};

const withDelegate = (delegate: object) =>
  JSON.stringify({
    name: 'cbr0',
    cniVersion: '0.3.1',
    plugins: [
      { type: 'flannel', delegate },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  });

/**
 * Runs a remediation in a real shell with a fake kubectl that records each call's argv, the way an
 * operator would paste it; returns the argv of every kubectl call.
 */
const runRemediation = (command: string): string[][] => {
  const dir = mkdtempSync(join(tmpdir(), 'ipmasq-fix-'));
  try {
    const log = join(dir, 'calls.jsonl');
    writeFileSync(
      join(dir, 'kubectl'),
      `#!/usr/bin/env node\nrequire('fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)) + '\\n');\n`,
    );
    chmodSync(join(dir, 'kubectl'), 0o755);
    execFileSync('sh', ['-c', command], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
    return readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

describe('ip-masq check', () => {
  it('passes the upstream install: flanneld --ip-masq, a delegate without ipMasq', () => {
    const findings = ipMasqCheck.evaluate(cluster(['--ip-masq', '--kube-subnet-mgr']));
    assert.deepEqual(problems(findings), []);
    assert.match(findings[0]!.message, /masquerades only traffic leaving the pod network/);
  });

  it('passes --no-ip-masq done right: no --ip-masq and "ipMasq": false', () => {
    const findings = ipMasqCheck.evaluate(
      cluster(
        ['--kube-subnet-mgr'],
        withDelegate({ hairpinMode: true, isDefaultGateway: true, ipMasq: false }),
      ),
    );
    assert.deepEqual(problems(findings), []);
    assert.match(findings[0]!.message, /nothing masquerades/);
  });

  // flannel-io/cni-plugin flannel_linux.go doCmdAdd: ipMasq = !FLANNEL_IPMASQ when the delegate omits it.
  it('fails an install without --ip-masq whose delegate omits ipMasq: cross-node pod traffic is SNATed', () => {
    const [finding] = ipMasqCheck.evaluate(cluster(['--kube-subnet-mgr']));
    assert.equal(finding!.code, 'ip-masq/cross-node-snat');
    assert.equal(finding!.severity, 'fail');
    assert.match(finding!.message, /!FLANNEL_IPMASQ = true/);
    assert.ok(finding!.evidence.some((e) => /without --ip-masq \(FLANNEL_IPMASQ=false\)/.test(e)));
    assert.match(finding!.remediation!, /run flanneld with --ip-masq instead/);
  });

  it('warns when the delegate sets "ipMasq": true by hand, even with flanneld --ip-masq', () => {
    const findings = ipMasqCheck.evaluate(
      cluster(['--ip-masq', '--kube-subnet-mgr'], withDelegate({ hairpinMode: true, ipMasq: true })),
    );
    assert.deepEqual(problems(findings), ['warn ip-masq/cross-node-snat']);
    assert.doesNotMatch(findings[0]!.remediation!, /instead/, 'flanneld still masquerades egress');
  });

  it("the fix, run in a shell, rewrites only the delegate's ipMasq and restarts the DaemonSet", () => {
    // A value with a single quote and other keys the operator set must survive the shell and the patch.
    const conf = withDelegate({ hairpinMode: false, isDefaultGateway: true, mtu: 1400, note: "it's mine" });
    const [finding] = ipMasqCheck.evaluate(cluster(['--kube-subnet-mgr'], conf));
    const [patch, restart] = runRemediation(finding!.remediation!);
    assert.deepEqual(patch!.slice(0, 7), [
      '-n',
      'kube-flannel',
      'patch',
      'configmap',
      'kube-flannel-cfg',
      '--type',
      'merge',
    ]);
    const body = JSON.parse(patch![8]!) as { data: Record<string, string> };
    assert.deepEqual(Object.keys(body.data), ['cni-conf.json']);
    const fixed = flannelPlugin(parseCniConf(body.data['cni-conf.json']!))!.delegate!;
    assert.deepEqual(fixed, {
      hairpinMode: false,
      isDefaultGateway: true,
      mtu: 1400,
      note: "it's mine",
      ipMasq: false,
    });
    assert.equal(bridgeMasquerades(fixed, false), false);
    assert.deepEqual(restart, ['-n', 'kube-flannel', 'rollout', 'restart', 'daemonset/kube-flannel-ds']);
    // And the fixed ConfigMap passes.
    assert.deepEqual(
      problems(ipMasqCheck.evaluate(cluster(['--kube-subnet-mgr'], body.data['cni-conf.json']))),
      [],
    );
  });

  it('skips when flanneld flags or cni-conf.json cannot be read', () => {
    const input = healthyInput('host-gw');
    const ds = flannelDaemonSet(3);
    ds.spec.template.spec.containers[0]!.command = ['/bin/sh', '-c', 'exec /opt/bin/flanneld --ip-masq'];
    const hidden = buildClusterFacts({ ...input, api: { ...input.api!, daemonSet: ds } });
    assert.match(ipMasqCheck.evaluate(hidden)[0]!.message, /hides its flags/);
    assert.match(ipMasqCheck.evaluate(cluster(['--ip-masq'], '{'))[0]!.message, /cni-conf\.json is unusable/);
    const noCni = buildClusterFacts({
      ...input,
      api: {
        ...input.api!,
        configMap: { metadata: { name: 'kube-flannel-cfg' }, data: { 'net-conf.json': '{}' } },
      },
    });
    assert.deepEqual(problems(ipMasqCheck.evaluate(noCni)), ['skipped ip-masq/skipped']);
  });
});
