// bench pods that cannot do their job fail the run fast, with the cause in the pod's own words (status,
// log, Events), and bench deletes its pods and the namespace it created. The API emulator's kubelet
// plays each failure as kubelet and containerd report it; where a pod must run, the test is the
// container runtime (onPodStarted, appendPodLog), as the lab's pod runner is.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { eventually, seedNodes } from '../helpers/apiserver.ts';
import { startApiServer, type ApiServer } from '../../src/sim/apiserver/index.ts';
import { resourceByName } from '../../src/sim/apiserver/resources.ts';
import type { SeedNode } from '../../src/sim/cluster-seed.ts';

const BENCH_NS = 'flannelctl-bench';

const startCluster = async (t: TestContext, nodes: SeedNode[] = seedNodes(3)) => {
  const api = await startApiServer({ readyDelayMs: 20, seed: { nodes } });
  const dir = mkdtempSync(join(tmpdir(), 'flannelctl-bench-fail-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await api.writeKubeconfig(kubeconfig);
  t.after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { api, kubeconfig };
};

const bench = (kubeconfig: string, extra: string[] = []) =>
  runCli([
    'bench',
    '--kubeconfig',
    kubeconfig,
    '--from',
    'node-1',
    '--to',
    'node-2',
    '-t',
    '1',
    '--repeat',
    '1',
    '--latency-count',
    '0',
    ...extra,
  ]);

const benchPods = (api: ApiServer) => api.list('pods', undefined, 'app.kubernetes.io/managed-by=flannelctl');

const assertCleanedUp = async (api: ApiServer): Promise<void> => {
  assert.deepEqual(benchPods(api), [], 'no bench pod is left');
  await eventually(() => api.get('namespaces', undefined, BENCH_NS) === undefined, 'namespace deleted');
};

const isRole = (pod: { metadata?: { labels?: Record<string, string> } }, role: string) =>
  pod.metadata?.labels?.['flannelctl.io/bench-role'] === role;

test('an image whose registry cannot resolve: ErrImagePull with containerd’s message, at once', async (t) => {
  const { api, kubeconfig } = await startCluster(t);
  const started = Date.now();
  const r = await bench(kubeconfig, ['--image', 'registry.invalid/tools/iperf3']);
  assert.equal(r.code, 1, r.stderr);
  if (process.env.SHOW) console.log(r.stderr);
  assert.ok(Date.now() - started < 5000, 'fails within seconds, not after --timeout');
  assert.match(
    r.stderr,
    /error: pod flannelctl-bench\/bench-\w+-server on node-2: ErrImagePull: rpc error: code = Unknown desc = failed to pull and unpack image "registry\.invalid\/tools\/iperf3:latest": failed to resolve reference "registry\.invalid\/tools\/iperf3:latest": failed to do request: Head "https:\/\/registry\.invalid\/v2\/tools\/iperf3\/manifests\/latest": dial tcp: lookup registry\.invalid on 127\.0\.0\.53:53: no such host/,
  );
  assert.match(r.stderr, /^ {4}Failed: Failed to pull image "registry\.invalid\/tools\/iperf3": rpc error/m);
  assert.match(r.stderr, /^ {4}Failed: Error: ErrImagePull$/m);
  assert.match(r.stderr, /hint: check the image and the nodes' access to its registry/);
  await assertCleanedUp(api);
});

test('a server pod that runs but does not listen fails after the listen window with its log and Unhealthy events', async (t) => {
  const { api, kubeconfig } = await startCluster(t);
  // The container runs, says where it listens, and the port bench probes never opens.
  api.faults.neverReady('node-2');
  api.onPodStarted((pod) => {
    if (isRole(pod, 'server'))
      api.appendPodLog(pod.metadata!.namespace!, pod.metadata!.name!, 'Server listening on 5301\n');
  });
  const started = Date.now();
  const r = await bench(kubeconfig, ['--timeout', '3s']);
  assert.equal(r.code, 1, r.stderr);
  if (process.env.SHOW) console.log(r.stderr);
  assert.ok(Date.now() - started < 8000, 'the listen window, not --timeout twice or a minute');
  assert.match(
    r.stderr,
    /error: server pod flannelctl-bench\/bench-\w+-server on node-2 is running but nothing listens on :5201 after 3s/,
  );
  assert.match(r.stderr, /^ {2}log:\n {4}Server listening on 5301$/m);
  assert.match(
    r.stderr,
    /^ {4}Unhealthy: Readiness probe failed: dial tcp 10\.244\.2\.\d+:5201: connect: connection refused \(×\d+\)$/m,
  );
  assert.match(r.stderr, /hint: the image \(networkstatic\/iperf3\) must run `iperf3 -s -p 5201`/);
  await assertCleanedUp(api);
});

test('a client pod with no output past its duration plus the margin fails with its phase', async (t) => {
  const { api, kubeconfig } = await startCluster(t);
  // The client container starts and never prints or exits (e.g. a SYN into a black hole).
  api.onPodStarted((pod) => (isRole(pod, 'client') ? { podIP: '10.244.1.50' } : undefined));
  const started = Date.now();
  const r = await bench(kubeconfig);
  assert.equal(r.code, 1, r.stderr);
  if (process.env.SHOW) console.log(r.stderr);
  assert.ok(Date.now() - started < 16_000, 'duration (1 s) plus the 10 s margin, not a minute');
  assert.match(
    r.stderr,
    /error: pod TCP run 1\/1: pod flannelctl-bench\/bench-\w+-tcp-1 on node-1: no output from iperf3 after 11s \(phase Running, expected to end after 1s\)\n {2}log: \(no output\)/,
  );
  assert.match(r.stderr, /hint: is the server pod reachable from node-1\?/);
  await assertCleanedUp(api);
});

test('a node with a NoExecute taint the pods do not tolerate: kubelet’s rejection, and the taint', async (t) => {
  const nodes = seedNodes(3).map((n) =>
    n.name === 'node-2'
      ? { ...n, taints: [{ key: 'dedicated', value: 'infra', effect: 'NoExecute' as const }] }
      : n,
  );
  const { api, kubeconfig } = await startCluster(t, nodes);
  const r = await bench(kubeconfig);
  assert.equal(r.code, 1, r.stderr);
  if (process.env.SHOW) console.log(r.stderr);
  assert.match(
    r.stderr,
    /error: pod flannelctl-bench\/bench-\w+-server on node-2: rejected by the kubelet \(TaintToleration\): Pod was rejected: Predicate TaintToleration failed: node\(s\) had taints that the pod didn't tolerate \(node-2 has taint dedicated=infra:NoExecute\)/,
  );
  assert.match(
    r.stderr,
    /^ {4}TaintToleration: Predicate TaintToleration failed: node\(s\) had taints that the pod didn't tolerate$/m,
  );
  assert.match(
    r.stderr,
    /hint: --toleration dedicated=infra:NoExecute lets the bench pods run there, or pick other nodes with --from\/--to/,
  );
  await assertCleanedUp(api);
});

test('a node whose kubelet stopped posting status: the pod stays Pending, bench names the node at once', async (t) => {
  const { api, kubeconfig } = await startCluster(t);
  // node-2's kubelet goes silent after bench picked it: the node lifecycle controller marks it Unknown.
  api.faults.beforeNext({ method: 'PATCH', path: /\/pods\/bench-\w+-server$/ }, () => {
    const node = api.get('nodes', undefined, 'node-2')!;
    const status = node.status as { conditions: { type: string }[] };
    api.registry.writeStatus(
      resourceByName('nodes'),
      undefined,
      'node-2',
      {
        ...status,
        conditions: status.conditions.map((c) =>
          c.type === 'Ready'
            ? {
                ...c,
                status: 'Unknown',
                reason: 'NodeStatusUnknown',
                message: 'Kubelet stopped posting node status.',
              }
            : c,
        ),
      },
      'kube-controller-manager',
    );
  });
  const started = Date.now();
  const r = await bench(kubeconfig);
  assert.equal(r.code, 1, r.stderr);
  if (process.env.SHOW) console.log(r.stderr);
  assert.ok(Date.now() - started < 8000, 'a few seconds, not --timeout');
  assert.match(
    r.stderr,
    /error: node node-2 is NotReady \(Ready=Unknown, NodeStatusUnknown: Kubelet stopped posting node status\.\): its kubelet does not start pods; pod flannelctl-bench\/bench-\w+-server on node-2 is still Pending with no status from a kubelet/,
  );
  assert.match(r.stderr, /hint: bench needs two Ready nodes: pick them with --from and --to/);
  await assertCleanedUp(api);
});
