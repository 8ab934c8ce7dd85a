// The lab proof that flannel's "no subnet.env" signature is a pod sandbox event, not a flanneld log
// line: flannel's CNI plugin runs under the container runtime when a pod is created (flannel-io/
// cni-plugin flannel.go cmdAdd), so on a node without /run/flannel/subnet.env the pod's CNI ADD fails
// with the plugin's own words, and kubelet records them as a FailedCreatePodSandBox event on the pod
// (kubernetes pkg/kubelet/kuberuntime/kuberuntime_manager.go SyncPod) while the pod stays Pending and
// the sandbox is retried. Here the pod runner creates the pod through the real CNI chain on a real
// node namespace, doctor reads the event over the API and the missing file over real OpenSSH, and
// once flanneld writes subnet.env again the next retry starts the pod.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '../helpers/apiserver.ts';
import { labRequirement } from '../helpers/requirements.ts';
import { runCli } from '../helpers/cli.ts';
import { createLab } from '../../src/lab/lab.ts';
import type { Lab, LabNode } from '../../src/lab/types.ts';
import {
  startSimulatedFlannel,
  waitForFlannelReady,
  type SimulatedFlannel,
} from '../../src/sim/flannel-agent/seed.ts';
import { startPodRunner, type PodRunner } from '../../src/sim/pod-runner/index.ts';
import type { KubeObject } from '../../src/sim/cluster-seed.ts';
import type { Report } from '../../src/report/report.ts';

const skip = labRequirement();
let lab: Lab;
let sim: SimulatedFlannel;
let runner: PodRunner;
let n1: LabNode, n2: LabNode;
let sshConfig: string;

before(async () => {
  if (skip) return;
  lab = await createLab({ nodes: 2, podsPerNode: 0 });
  [n1, n2] = lab.nodes as [LabNode, LabNode];
  sshConfig = join(lab.dir, 'empty_ssh_config');
  writeFileSync(sshConfig, '');
  // kubelet's 10 s pod-worker backoff, shortened so the test sees several retries.
  sim = await startSimulatedFlannel({
    lab,
    backend: 'host-gw',
    routeCheckIntervalMs: 600_000,
    sandboxRetryMs: 200,
  });
  runner = startPodRunner({ api: sim.api, lab });
});
after(async () => {
  await runner?.close();
  await sim?.close();
  await lab?.destroy();
});

const doctor = async (): Promise<{ code: number; report: Report }> => {
  const r = await runCli([
    'doctor',
    '--kubeconfig',
    sim.kubeconfig,
    '--ssh-key',
    lab.ssh!.identityFile,
    '--ssh-known-hosts',
    lab.ssh!.knownHostsFile,
    '--ssh-user',
    'root',
    '--ssh-config',
    sshConfig,
    '-o',
    'json',
  ]);
  assert.ok(r.stdout.startsWith('{'), r.stderr + r.stdout);
  return { code: r.code, report: JSON.parse(r.stdout) as Report };
};

const notPassing = (report: Report): string[] =>
  report.findings
    .filter((f) => f.severity !== 'pass' && f.severity !== 'info')
    .map((f) => `${f.severity} ${f.code} ${f.node ?? ''}`.trim())
    .sort();

interface EventLike {
  reason: string;
  type: string;
  message: string;
  count: number;
  source: { component: string; host?: string };
  involvedObject: { kind: string; namespace: string; name: string; uid: string };
}

const sandboxEvents = (pod: string): EventLike[] =>
  (sim.api.list('events', 'default') as unknown as EventLike[]).filter(
    (e) => e.reason === 'FailedCreatePodSandBox' && e.involvedObject.name === pod,
  );

const podStatus = (name: string) =>
  sim.api.get('pods', 'default', name)?.status as
    | { phase?: string; podIP?: string; containerStatuses?: { state?: { waiting?: { reason?: string } } }[] }
    | undefined;

test(
  "no subnet.env on node-2: the pod gets flannel's FailedCreatePodSandBox event, doctor names node-2 and the fix; flanneld back -> the pod runs",
  { skip },
  async () => {
    const subnetEnv = join(n2.runDir, 'subnet.env');
    assert.ok(existsSync(subnetEnv), 'flanneld wrote subnet.env on node-2');
    rmSync(subnetEnv);

    const pod: KubeObject = sim.api.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-0', namespace: 'default' },
      spec: { nodeName: n2.name, containers: [{ name: 'main', image: 'x', command: ['sleep', '3600'] }] },
    });

    // The real CNI chain failed in flannel's step; kubelet's event says so, about this pod, from node-2.
    const [event] = await eventually(
      () => {
        const events = sandboxEvents('web-0');
        return events.length > 0 ? events : undefined;
      },
      'a FailedCreatePodSandBox event',
      20_000,
    );
    assert.equal(event!.type, 'Warning');
    assert.deepEqual(event!.source, { component: 'kubelet', host: n2.name });
    assert.equal(event!.involvedObject.kind, 'Pod');
    assert.equal(event!.involvedObject.uid, pod.metadata!.uid);
    assert.match(
      event!.message,
      /^Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "[0-9a-f]{64}": plugin type="flannel" failed \(add\): /,
    );
    assert.ok(
      event!.message.endsWith(
        "failed to load flannel 'subnet.env' file: open /run/flannel/subnet.env: no such file or directory. Check the flannel pod log for this node.",
      ),
      event!.message,
    );
    assert.equal(podStatus('web-0')?.phase, 'Pending');
    assert.equal(podStatus('web-0')?.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');
    assert.deepEqual(runner.pods(), [], 'no sandbox exists while CNI ADD fails');

    // kubelet keeps trying; the recorder folds the retries into one counted Event instead of a flood.
    await eventually(
      () =>
        sandboxEvents('web-0').some(
          (e) => e.message.startsWith('(combined from similar events): ') && e.count >= 2,
        )
          ? true
          : undefined,
      'the retries counted on a combined event',
      20_000,
    );
    assert.ok(sandboxEvents('web-0').length <= 10);

    const broken = await doctor();
    assert.equal(broken.code, 1);
    assert.deepEqual(notPassing(broken.report), [
      'fail pod-sandbox/subnet-env-missing node-2',
      'fail subnet-env/missing node-2',
    ]);
    const finding = broken.report.findings.find((f) => f.code === 'pod-sandbox/subnet-env-missing')!;
    assert.equal(finding.node, n2.name);
    assert.match(
      finding.message,
      /Pods on node-2 cannot start: flannel's CNI plugin finds no \/run\/flannel\/subnet\.env \(default\/web-0\)/,
    );
    assert.match(finding.evidence[0]!, /^default\/web-0: \d+ × FailedCreatePodSandBox/);
    const flannelPod = sim.api
      .list('pods', sim.namespace, 'app=flannel')
      .find((p) => (p.spec as { nodeName?: string }).nodeName === n2.name)!;
    assert.equal(
      finding.remediation,
      `kubectl -n ${sim.namespace} logs ${flannelPod.metadata!.name} -c kube-flannel --tail=100  # why flanneld on node-2 has not written subnet.env`,
    );

    // flanneld starts again on node-2 (its pod recreated by the DaemonSet) and writes subnet.env.
    const res = await fetch(
      `${sim.api.url}/api/v1/namespaces/${sim.namespace}/pods/${flannelPod.metadata!.name}`,
      { method: 'DELETE', headers: { Authorization: `Bearer ${sim.api.token}` } },
    );
    assert.equal(res.status, 200);
    await eventually(() => (existsSync(subnetEnv) ? true : undefined), 'subnet.env again', 20_000);
    await waitForFlannelReady(sim.api, sim.agents, [n1.name, n2.name], sim.namespace);

    const ip = await eventually(
      () => (podStatus('web-0')?.phase === 'Running' ? podStatus('web-0')?.podIP : undefined),
      'web-0 Running',
      20_000,
    );
    assert.match(ip, new RegExp(`^${n2.podCidr.split('.').slice(0, 3).join('\\.')}\\.\\d+$`));
    assert.equal(runner.pods().find((p) => p.name === 'web-0')?.podIP, ip);
    // The pod is really there: node-1 reaches it over host-gw.
    assert.equal((await lab.tryExec(n1.netns, ['ping', '-c', '1', '-W', '2', ip])).code, 0);

    // The event stays (events outlive their cause); doctor now reports it as history, not a failure.
    const healed = await doctor();
    assert.deepEqual(notPassing(healed.report), []);
    assert.equal(healed.code, 0);
    const history = healed.report.findings.find((f) => f.code === 'pod-sandbox/subnet-env-missing')!;
    assert.equal(history.severity, 'info');
    assert.match(history.message, /it exists now/);
  },
);
