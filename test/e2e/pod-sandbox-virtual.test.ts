// A node whose subnet.env is gone, end to end: kubelet records flannel's CNI plugin error as a
// FailedCreatePodSandBox event (the plugin runs under the container runtime, never in flanneld), and
// doctor finds it there through the API emulator, on that node only, next to the missing file itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.ts';
import { SUBNET_ENV_PATH } from '../../src/flannel/names.ts';
import { startVirtualCluster } from '../../src/sim/virtual-cluster.ts';
import type { Report } from '../../src/report/report.ts';

const notPassing = (report: Report) =>
  report.findings
    .filter((f) => f.severity !== 'pass' && f.severity !== 'info')
    .map((f) => `${f.severity} ${f.code} ${f.node ?? ''}`.trim())
    .sort();

/** The event kubelet writes when RunPodSandbox fails in the flannel plugin (kuberuntime_manager.go). */
const sandboxEvent = (node: string, pod: string) => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: `${pod}.1880f3a2b4c5d6e7`, namespace: 'default' },
  involvedObject: { kind: 'Pod', namespace: 'default', name: pod, apiVersion: 'v1' },
  reason: 'FailedCreatePodSandBox',
  type: 'Warning',
  message:
    'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "9d1e": plugin type="flannel" failed (add): ' +
    "failed to load flannel 'subnet.env' file: open /run/flannel/subnet.env: no such file or directory. Check the flannel pod log for this node.",
  source: { component: 'kubelet', host: node },
  count: 3,
  firstTimestamp: '2026-12-02T10:00:00Z',
  lastTimestamp: '2026-12-02T10:02:00Z',
});

test('doctor reads FailedCreatePodSandBox events: a missing subnet.env fails on its node only', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 3, backend: 'host-gw', routeCheckIntervalMs: 600_000 });
  t.after(() => cluster.close());
  const api = cluster.flannel.api;
  const doctor = async () => {
    const r = await runCli(['doctor', ...cluster.cliArgs(), '-o', 'json']);
    assert.ok(r.stdout.startsWith('{'), r.stderr + r.stdout);
    return { code: r.code, report: JSON.parse(r.stdout) as Report };
  };

  // Events about other things (and in other namespaces) are not flannel's.
  api.create({
    ...sandboxEvent('node-1', 'web-0'),
    metadata: { name: 'web-0.1', namespace: 'default' },
    reason: 'BackOff',
    message: 'Back-off restarting failed container',
  });
  const healthy = await doctor();
  assert.equal(healthy.code, 0);
  assert.deepEqual(notPassing(healthy.report), []);
  assert.ok(healthy.report.findings.some((f) => f.code === 'pod-sandbox/ok'));

  cluster.node('node-2').files.delete(SUBNET_ENV_PATH);
  api.create(sandboxEvent('node-2', 'web-1'));
  const broken = await doctor();
  assert.equal(broken.code, 1);
  assert.deepEqual(notPassing(broken.report), [
    'fail pod-sandbox/subnet-env-missing node-2',
    'fail subnet-env/missing node-2',
  ]);
  const finding = broken.report.findings.find((f) => f.code === 'pod-sandbox/subnet-env-missing')!;
  assert.match(
    finding.evidence[0]!,
    /^default\/web-1: 3 × FailedCreatePodSandBox, last 2026-12-02T10:02:00Z: /,
  );
  assert.match(finding.remediation!, /kubectl -n kube-flannel logs kube-flannel-ds-\S+ -c kube-flannel/);
  // One server-side filtered list, not a read of every event.
  const lists = api.requests.records.filter((r) => r.path === '/api/v1/events');
  assert.ok(lists.length > 0);
  for (const r of lists)
    assert.equal(new URLSearchParams(r.query).get('fieldSelector'), 'reason=FailedCreatePodSandBox');
});
