// Issue 15 point 2: printed fixes must not carry attacker commands. Hostile values are planted with the
// real kubectl, exactly as someone with node-annotation rights would, against the API emulator of a
// simulated cluster; doctor's text and JSON output must then hold no unvalidated value in any fix, and
// name the hostile value as an invalid annotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { kubectlRequirement } from '../helpers/requirements.ts';
import { startVirtualCluster, type VirtualCluster } from '../../src/sim/virtual-cluster.ts';
import type { Report } from '../../src/report/report.ts';

const skip = kubectlRequirement();
const HOSTILE_IP = '1.2.3.4;touch /tmp/x #';
const HOSTILE_MAC = '0e:fc:00:00:00:13 dst 1.2.3.4;touch /tmp/x #';

/** kubectl against the cluster's emulator, async: the emulator serves from this very process. */
const kubectlFor = async (cluster: VirtualCluster, t: { after(fn: () => Promise<void>): void }) => {
  const home = await mkdtemp(join(tmpdir(), 'flannelctl-kubectl-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  const env = { PATH: process.env.PATH, HOME: home, KUBECONFIG: cluster.kubeconfig };
  return (...args: string[]) =>
    new Promise<void>((resolve, reject) => {
      execFile('kubectl', args, { env, timeout: 90_000 }, (error, _stdout, stderr) =>
        error ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr}`)) : resolve(),
      );
    });
};

/** Every `fix:` line of the text report and every JSON remediation. */
const fixesOf = (text: string, report: Report): string[] => [
  ...text.split('\n').filter((l) => /^\s+fix: /.test(l)),
  ...report.findings.flatMap((f) => (f.remediation ? [f.remediation] : [])),
];

const assertNoHostileText = (fixes: readonly string[]) => {
  assert.ok(fixes.length > 0, 'the faults produce fixes');
  for (const fix of fixes) assert.doesNotMatch(fix, /touch|1\.2\.3\.4/, fix);
};

test(
  'a hostile public-ip and public-ip-overwrite reach no fix; both are reported invalid',
  { skip },
  async (t) => {
    const cluster = await startVirtualCluster({
      nodes: 3,
      backend: 'host-gw',
      routeCheckIntervalMs: 600_000,
    });
    t.after(() => cluster.close());
    const kubectl = await kubectlFor(cluster, t);
    await kubectl(
      'annotate',
      'node',
      'node-3',
      '--overwrite',
      `flannel.alpha.coreos.com/public-ip=${HOSTILE_IP}`,
    );
    await kubectl('annotate', 'node', 'node-2', `flannel.alpha.coreos.com/public-ip-overwrite=${HOSTILE_IP}`);
    // A route node-1 needs toward node-3, so the routes check has a fix to print for that pair.
    cluster.node('node-1').routeDel({ dst: '10.244.3.0/24' });

    const json = await runCli(['doctor', ...cluster.cliArgs(), '-o', 'json']);
    assert.equal(json.code, 1, json.stderr);
    const report = JSON.parse(json.stdout) as Report;
    const text = await runCli(['doctor', ...cluster.cliArgs(), '--no-color']);
    assertNoHostileText(fixesOf(text.stdout, report));
    const invalid = report.findings.filter((f) => f.check === 'annotations' && f.severity === 'fail');
    assert.deepEqual(
      invalid.map((f) => `${f.code} ${f.node}`),
      ['annotations/invalid-public-ip-overwrite node-2', 'annotations/invalid-public-ip node-3'],
    );
    assert.deepEqual(invalid[1]!.evidence, [
      `flannel.alpha.coreos.com/public-ip = ${JSON.stringify(HOSTILE_IP)}`,
    ]);
    assert.match(text.stdout, /FAIL {2}annotations\/invalid-public-ip {2}node-3/);
  },
);

test('a hostile VtepMAC in backend-data reaches no neighbour or fdb command', { skip }, async (t) => {
  const cluster = await startVirtualCluster({ nodes: 3, backend: 'vxlan' });
  t.after(() => cluster.close());
  const kubectl = await kubectlFor(cluster, t);
  await kubectl(
    'annotate',
    'node',
    'node-3',
    '--overwrite',
    `flannel.alpha.coreos.com/backend-data=${JSON.stringify({ VNI: 1, VtepMAC: HOSTILE_MAC })}`,
  );
  const json = await runCli(['doctor', ...cluster.cliArgs(), '-o', 'json']);
  const report = JSON.parse(json.stdout) as Report;
  const text = await runCli(['doctor', ...cluster.cliArgs(), '--no-color']);
  assert.ok(
    report.findings.some((f) => f.code === 'annotations/invalid-vtep-mac' && f.node === 'node-3'),
    json.stdout,
  );
  for (const fix of fixesOf(text.stdout, report)) assert.doesNotMatch(fix, /touch|1\.2\.3\.4/, fix);
});
