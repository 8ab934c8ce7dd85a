// --node-access daemonset end to end on a simulated cluster: one DaemonSet runs every node's probe
// (scripts from a ConfigMap), the results come back through pod logs, and nothing is left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.ts';
import { startVirtualCluster, type VirtualCluster } from '../../src/sim/virtual-cluster.ts';
import type { Report } from '../../src/report/report.ts';
import { InterruptedError } from '../../src/errors.ts';
import { gatherNodeFacts } from '../../src/facts/gather.ts';
import { createDaemonSetAccess } from '../../src/nodes/daemonset-access.ts';
import { createClientNodeKube } from '../../src/kube/client-node.ts';

const MANAGED = 'app.kubernetes.io/managed-by=flannelctl';

const findings = (report: Report): string[] =>
  report.findings.map((f) => `${f.severity} ${f.code} ${f.node ?? ''} ${f.peer ?? ''}`.trim()).sort();

/** Every object a run creates carries the managed-by label; pods go with their DaemonSet. */
const leftovers = (cluster: VirtualCluster): string[] =>
  ['daemonsets', 'configmaps', 'pods'].flatMap((resource) =>
    cluster.flannel.api.list(resource, undefined, MANAGED).map((o) => `${resource}/${o.metadata!.name!}`),
  );

const daemonSetDoctor = (cluster: VirtualCluster, ...args: string[]) =>
  runCli(['doctor', '--node-access', 'daemonset', '--kubeconfig', cluster.kubeconfig, '-o', 'json', ...args]);

test('doctor --node-access daemonset finds what the SSH path finds, in one DaemonSet, and leaves nothing behind', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 4, backend: 'host-gw', routeCheckIntervalMs: 600_000 });
  t.after(() => cluster.close());
  cluster.node('node-2').routeDel({ dst: '10.244.3.0/24' });
  cluster.node('node-4').setSysctl('net/ipv4/ip_forward', '0');

  const ssh = await runCli(['doctor', ...cluster.cliArgs(), '-o', 'json']);
  assert.equal(ssh.code, 1, ssh.stderr);
  cluster.flannel.api.requests.clear();
  const ds = await daemonSetDoctor(cluster);
  assert.equal(ds.code, 1, ds.stderr);
  const report = JSON.parse(ds.stdout) as Report;
  assert.deepEqual(findings(report), findings(JSON.parse(ssh.stdout) as Report));
  assert.ok(findings(report).some((f) => f.startsWith('fail kernel/ip-forward-off node-4')));
  assert.equal(report.nodes.filter((n) => n.reachable).length, 4);

  // One ConfigMap and one DaemonSet for all four nodes, no pods/exec, and both deleted afterwards.
  const records = cluster.flannel.api.requests.records;
  const created = records.filter((r) => r.verb === 'create' && r.status === 201).map((r) => r.resource);
  assert.deepEqual(created.sort(), ['configmaps', 'daemonsets']);
  assert.equal(records.filter((r) => r.resource === 'pods/exec').length, 0);
  const deleted = records.filter((r) => r.verb === 'delete' && r.status === 200).map((r) => r.resource);
  assert.deepEqual(deleted.sort(), ['configmaps', 'daemonsets']);
  assert.deepEqual(leftovers(cluster), []);
});

test('--nodes limits the DaemonSet to those nodes', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 3, backend: 'host-gw' });
  t.after(() => cluster.close());
  const started: string[] = [];
  cluster.flannel.api.onPodStarted((pod) => {
    if (pod.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'flannelctl')
      started.push((pod.spec as { nodeName: string }).nodeName);
  });
  const r = await daemonSetDoctor(cluster, '--nodes', 'node-1,node-3');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(started.sort(), ['node-1', 'node-3']);
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
  const r = await daemonSetDoctor(cluster);
  assert.equal(r.code, 3, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  const node3 = report.nodes.find((n) => n.name === 'node-3');
  assert.equal(node3?.reachable, false);
  assert.equal(node3?.issue?.kind, 'unreachable');
  assert.match(JSON.stringify(node3), /CrashLoopBackOff/);
  assert.deepEqual(
    report.nodes.filter((n) => n.reachable).map((n) => n.name),
    ['node-1', 'node-2'],
  );
  assert.deepEqual(leftovers(cluster), []);
});

test('a script that does not finish within --command-timeout is a timeout on its node only', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 2, backend: 'host-gw' });
  t.after(() => cluster.close());
  cluster.flannel.api.onNodeExec('node-2', () => new Promise(() => undefined));
  const r = await daemonSetDoctor(cluster, '--command-timeout', '1s');
  assert.equal(r.code, 3, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  assert.deepEqual(
    report.nodes.map((n) => [n.name, n.reachable, n.issue?.kind]),
    [
      ['node-1', true, undefined],
      ['node-2', false, 'timeout'],
    ],
  );
  assert.deepEqual(leftovers(cluster), []);
});

test('a refused DaemonSet create is an auth issue per node, and the ConfigMap is still deleted', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 2, backend: 'host-gw' });
  t.after(() => cluster.close());
  cluster.flannel.api.faults.forbid({ verb: 'create', resource: 'daemonsets' });
  const r = await daemonSetDoctor(cluster);
  assert.equal(r.code, 3, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  assert.deepEqual(
    report.nodes.map((n) => [n.name, n.reachable, n.issue?.kind]),
    [
      ['node-1', false, 'auth'],
      ['node-2', false, 'auth'],
    ],
  );
  assert.match(r.stdout, /--node-access daemonset/);
  assert.deepEqual(leftovers(cluster), []);
});

test('scripts too big for one ConfigMap are split into batches, each DaemonSet on its own nodes', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 3, backend: 'host-gw' });
  t.after(() => cluster.close());
  const kube = createClientNodeKube({ kubeconfig: cluster.kubeconfig }, {});
  const exec = createDaemonSetAccess({
    kube,
    namespace: 'kube-flannel',
    image: 'ghcr.io/flannel-io/flannel:v0.28.9',
    runId: 'big123',
    handleSignals: false,
    pollMs: 20,
    maxBatchBytes: 1,
  });
  t.after(() => exec.close());
  const daemonSets: string[][] = [];
  cluster.flannel.api.store.subscribe((event) => {
    if (event.type !== 'ADDED' || event.resource.resource !== 'daemonsets') return;
    const name = event.object.metadata!.name!;
    if (!name.startsWith('flannelctl-probe-')) return;
    const spec = event.object.spec as {
      template: {
        spec: {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: { matchFields: { values: string[] }[] }[];
              };
            };
          };
        };
      };
    };
    daemonSets.push(
      spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
        .nodeSelectorTerms[0]!.matchFields[0]!.values,
    );
  });
  const targets = ['node-1', 'node-2', 'node-3'].map((name, i) => ({
    name,
    address: `192.168.77.1${i + 1}`,
  }));
  const results = await gatherNodeFacts(targets, exec, { timeoutMs: 30_000, concurrency: 3 });
  assert.deepEqual(
    results.map((r) => [r.node, r.ok]),
    [
      ['node-1', true],
      ['node-2', true],
      ['node-3', true],
    ],
  );
  assert.deepEqual(daemonSets.sort(), [['node-1'], ['node-2'], ['node-3']]);
  await exec.close();
  assert.deepEqual(leftovers(cluster), []);
});

test('aborting mid-run deletes the DaemonSet and the ConfigMap', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 3, backend: 'host-gw' });
  t.after(() => cluster.close());
  const controller = new AbortController();
  // node-2's script never finishes; its start is the moment to abort.
  cluster.flannel.api.onNodeExec('node-2', () => {
    controller.abort();
    return new Promise(() => undefined);
  });
  const kube = createClientNodeKube({ kubeconfig: cluster.kubeconfig }, {});
  const exec = createDaemonSetAccess({
    kube,
    namespace: 'kube-flannel',
    image: 'ghcr.io/flannel-io/flannel:v0.28.9',
    runId: 'abc123',
    handleSignals: false,
    pollMs: 20,
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

test('Ctrl-C during a daemonset run deletes its objects before the process ends', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 2, backend: 'host-gw' });
  t.after(() => cluster.close());
  let scriptStarted!: () => void;
  const started = new Promise<void>((resolve) => (scriptStarted = resolve));
  cluster.flannel.api.onNodeExec('node-2', () => {
    scriptStarted();
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
      'daemonset',
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
  assert.ok(leftovers(cluster).length > 0, 'the run had created its objects');
  child.kill('SIGINT');
  const [code, signal] = await exited;
  assert.ok(signal === 'SIGINT' || code === 130, `ended by the interrupt (code ${code}, signal ${signal})`);
  assert.match(stderr, /interrupted \(SIGINT\): deleting the node-access DaemonSet/);
  assert.deepEqual(leftovers(cluster), []);
});

test('node-changing commands and SSH flags are refused with --node-access daemonset', async () => {
  for (const args of [
    ['check-rpfilter', '--fix', '--yes'],
    ['tune', '--apply', '--yes'],
    ['migrate', '--to', 'host-gw', '--yes'],
  ]) {
    const r = await runCli([...args, '--node-access', 'daemonset']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot change nodes through --node-access daemonset/);
  }
  const ssh = await runCli(['doctor', '--node-access', 'daemonset', '--ssh-user', 'root']);
  assert.equal(ssh.code, 2);
  assert.match(ssh.stderr, /--ssh-user does not apply to --node-access daemonset/);
});
