// --node-access kube-exec end to end on a simulated cluster: node scripts run in short-lived pods
// through the API emulator's pods/exec (client-node's Exec over WebSocket), with no SSH at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.ts';
import { startVirtualCluster, type VirtualCluster } from '../../src/sim/virtual-cluster.ts';
import type { Report } from '../../src/report/report.ts';
import { InterruptedError } from '../../src/errors.ts';
import { gatherNodeFacts } from '../../src/facts/gather.ts';
import { createKubeExec } from '../../src/nodes/kube-exec.ts';
import { createClientNodeKube } from '../../src/kube/client-node.ts';

const MANAGED = 'app.kubernetes.io/managed-by=flannelctl';

const findings = (report: Report): string[] =>
  report.findings.map((f) => `${f.severity} ${f.code} ${f.node ?? ''} ${f.peer ?? ''}`.trim()).sort();

const leftovers = (cluster: VirtualCluster): string[] =>
  cluster.flannel.api.list('pods', undefined, MANAGED).map((p) => p.metadata!.name!);

const kubeExecDoctor = (cluster: VirtualCluster, ...args: string[]) =>
  runCli(['doctor', '--node-access', 'kube-exec', '--kubeconfig', cluster.kubeconfig, '-o', 'json', ...args]);

test('doctor --node-access kube-exec finds what the SSH path finds, and leaves no pod behind', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 4, backend: 'host-gw', routeCheckIntervalMs: 600_000 });
  t.after(() => cluster.close());
  cluster.node('node-2').routeDel({ dst: '10.244.3.0/24' });
  cluster.node('node-4').setSysctl('net/ipv4/ip_forward', '0');

  const ssh = await runCli(['doctor', ...cluster.cliArgs(), '-o', 'json']);
  assert.equal(ssh.code, 1, ssh.stderr);
  cluster.flannel.api.requests.clear();
  const kube = await kubeExecDoctor(cluster);
  assert.equal(kube.code, 1, kube.stderr);
  const report = JSON.parse(kube.stdout) as Report;
  assert.deepEqual(findings(report), findings(JSON.parse(ssh.stdout) as Report));
  assert.ok(findings(report).some((f) => f.startsWith('fail kernel/ip-forward-off node-4')));
  assert.equal(report.nodes.filter((n) => n.reachable).length, 4);

  // One pod per node, each exec'd into once for the probe, all deleted afterwards.
  const writes = cluster.flannel.api.requests.records.filter((r) => r.resource?.startsWith('pods'));
  const created = writes.filter((r) => r.verb === 'create' && r.resource === 'pods' && r.status === 201);
  const execs = writes.filter((r) => r.resource === 'pods/exec' && r.status === 101);
  const deleted = writes.filter((r) => r.verb === 'delete' && r.resource === 'pods' && r.status === 200);
  assert.equal(created.length, 4);
  assert.equal(execs.length, 4);
  assert.deepEqual(deleted.map((r) => r.name).sort(), execs.map((r) => r.name).sort());
  assert.deepEqual(leftovers(cluster), []);
});

test('a node whose pod cannot start is its own issue (exit 3); the other nodes are checked', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 3, backend: 'vxlan' });
  t.after(() => cluster.close());
  // The container on node-3 fails to start, as a broken runtime or image would make it.
  cluster.flannel.api.onPodStarted((pod) => {
    const spec = pod.spec as { nodeName?: string };
    if (spec.nodeName === 'node-3' && pod.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'flannelctl')
      throw new Error('container failed to start');
  });
  const r = await kubeExecDoctor(cluster);
  assert.equal(r.code, 3, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  const node3 = report.nodes.find((n) => n.name === 'node-3');
  assert.equal(node3?.reachable, false);
  assert.match(JSON.stringify(node3), /CrashLoopBackOff/);
  assert.deepEqual(
    report.nodes.filter((n) => n.reachable).map((n) => n.name),
    ['node-1', 'node-2'],
  );
  assert.deepEqual(leftovers(cluster), []);
});

test('a refused pods/exec is an auth issue per node, and the pods are still deleted', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 2, backend: 'host-gw' });
  t.after(() => cluster.close());
  cluster.flannel.api.faults.forbid({ verb: 'create', resource: 'pods/exec' });
  const r = await kubeExecDoctor(cluster);
  assert.equal(r.code, 3, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  assert.deepEqual(
    report.nodes.map((n) => [n.name, n.reachable, n.issue?.kind]),
    [
      ['node-1', false, 'auth'],
      ['node-2', false, 'auth'],
    ],
  );
  assert.match(r.stderr, /pods\/exec/);
  assert.deepEqual(leftovers(cluster), []);
});

test('aborting mid-run stops the scripts and deletes every pod', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 3, backend: 'host-gw' });
  t.after(() => cluster.close());
  const controller = new AbortController();
  // node-2's script never finishes; its exec starting is the moment to abort.
  cluster.flannel.api.onNodeExec('node-2', () => {
    controller.abort();
    return new Promise(() => undefined);
  });
  const kube = createClientNodeKube({ kubeconfig: cluster.kubeconfig }, {});
  const exec = createKubeExec({
    kube,
    namespace: 'kube-flannel',
    image: 'ghcr.io/flannel-io/flannel:v0.28.9',
    runId: 'abc123',
    handleSignals: false,
  });
  const targets = ['node-1', 'node-2', 'node-3'].map((name, i) => ({
    name,
    address: `192.168.77.1${i + 1}`,
  }));
  await assert.rejects(
    gatherNodeFacts(targets, exec, { timeoutMs: 30_000, concurrency: 3, signal: controller.signal }),
    InterruptedError,
  );
  await exec.close();
  assert.deepEqual(leftovers(cluster), []);
});

test('Ctrl-C during a kube-exec run deletes the pods before the process ends', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 2, backend: 'host-gw' });
  t.after(() => cluster.close());
  let execStarted!: () => void;
  const started = new Promise<void>((resolve) => (execStarted = resolve));
  cluster.flannel.api.onNodeExec('node-2', () => {
    execStarted();
    return new Promise(() => undefined);
  });
  const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { main } = await import(${JSON.stringify(cli)});
       process.exitCode = await main(process.argv.slice(0, 1).concat(process.argv.slice(1)));`,
      'flannelctl',
      'doctor',
      '--node-access',
      'kube-exec',
      '--kubeconfig',
      cluster.kubeconfig,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (code, signal) => resolve([code, signal])),
  );
  await Promise.race([started, exited.then(() => assert.fail(`the CLI ended early: ${stderr}`))]);
  assert.ok(leftovers(cluster).length > 0, 'the run had created its pods');
  child.kill('SIGINT');
  const [code, signal] = await exited;
  assert.ok(signal === 'SIGINT' || code === 130, `ended by the interrupt (code ${code}, signal ${signal})`);
  assert.match(stderr, /interrupted \(SIGINT\): deleting the node-access pods/);
  assert.deepEqual(leftovers(cluster), []);
});

test('SSH flags and --node-image are refused where they do not apply, before any API call', async () => {
  const ssh = await runCli(['doctor', '--node-access', 'kube-exec', '--ssh-user', 'root']);
  assert.equal(ssh.code, 2);
  assert.match(ssh.stderr, /--ssh-user does not apply to --node-access kube-exec/);
  const image = await runCli(['doctor', '--node-image', 'busybox']);
  assert.equal(image.code, 2);
  assert.match(image.stderr, /--node-image applies only to --node-access kube-exec/);
  const bad = await runCli(['doctor', '--node-access', 'kube-exec', '--node-image', 'Bad Image;rm']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /is not an image reference/);
  // The pods read the host; changing sysctls goes over SSH (a dry run still prints the commands).
  for (const args of [
    ['check-rpfilter', '--fix', '--yes'],
    ['tune', '--apply', '--yes'],
  ]) {
    const r = await runCli([...args, '--node-access', 'kube-exec']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot change nodes through --node-access kube-exec/);
  }
});
