// install --no-ip-masq and doctor's ip-masq check end to end: the API emulator, flannel agents, virtual
// nodes over SSH, and the real kubectl running doctor's fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runCli } from '../helpers/cli.ts';
import { kubectlRequirement } from '../helpers/requirements.ts';
import { startVirtualCluster } from '../../src/sim/virtual-cluster.ts';
import type { Report } from '../../src/report/report.ts';

const run = promisify(execFile);

const findings = (stdout: string, check: string) =>
  (JSON.parse(stdout) as Report).findings.filter((f) => f.check === check);

// The delegate older flannelctl wrote for --no-ip-masq (and the upstream one): no ipMasq key.
const UPSTREAM_CNI_CONF = JSON.stringify({
  name: 'cbr0',
  cniVersion: '0.3.1',
  plugins: [
    { type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } },
    { type: 'portmap', capabilities: { portMappings: true } },
  ],
});

test(
  'install --no-ip-masq passes doctor; a delegate without ipMasq fails it, and the printed fix repairs it',
  { skip: kubectlRequirement() },
  async (t) => {
    const cluster = await startVirtualCluster({ nodes: 2, backend: 'host-gw' });
    t.after(() => cluster.close());
    const doctor = () =>
      runCli(['doctor', ...cluster.cliArgs(), '--checks', 'ip-masq,subnet-env', '-o', 'json']);

    const installed = await runCli([
      'install',
      '--kubeconfig',
      cluster.kubeconfig,
      '--no-ip-masq',
      '--force-conflicts',
      '--timeout',
      '60s',
    ]);
    assert.equal(installed.code, 0, installed.stderr);
    const clean = await doctor();
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(findings(clean.stdout, 'ip-masq')[0]!.message, /nothing masquerades/);
    // flanneld restarted without --ip-masq on every node and wrote FLANNEL_IPMASQ=false.
    assert.deepEqual(
      findings(clean.stdout, 'subnet-env').map((f) => f.severity),
      ['pass', 'pass'],
    );

    const env = { ...process.env, KUBECONFIG: cluster.kubeconfig };
    await run(
      'kubectl',
      [
        '-n',
        'kube-flannel',
        'patch',
        'configmap',
        'kube-flannel-cfg',
        '--type',
        'merge',
        '-p',
        JSON.stringify({ data: { 'cni-conf.json': UPSTREAM_CNI_CONF } }),
      ],
      { env },
    );
    const broken = await doctor();
    assert.equal(broken.code, 1, broken.stdout + broken.stderr);
    const [finding] = findings(broken.stdout, 'ip-masq');
    assert.equal(finding!.code, 'ip-masq/cross-node-snat');

    // The remediation exactly as printed, pasted into a shell.
    await run('sh', ['-c', finding!.remediation!], { env });
    const fixed = await doctor();
    assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
    const cm = JSON.parse(
      (
        await run('kubectl', ['-n', 'kube-flannel', 'get', 'configmap', 'kube-flannel-cfg', '-o', 'json'], {
          env,
        })
      ).stdout,
    ) as { data: Record<string, string> };
    const conf = JSON.parse(cm.data['cni-conf.json']!) as { plugins: { delegate?: object }[] };
    assert.deepEqual(conf.plugins[0]!.delegate, { hairpinMode: true, isDefaultGateway: true, ipMasq: false });
  },
);
