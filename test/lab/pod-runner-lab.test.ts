// The lab pod runner: pods created through the API emulator run for real in namespaces on the nodes'
// cni0, reach each other through the flannel agent's routes, end Succeeded/Failed, and vanish on delete.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { labRequirement } from '../helpers/requirements.ts';
import { createLab } from '../../src/lab/lab.ts';
import type { Lab } from '../../src/lab/types.ts';
import { startSimulatedFlannel, type SimulatedFlannel } from '../../src/sim/flannel-agent/index.ts';
import { startPodRunner, type PodRunner } from '../../src/sim/pod-runner/index.ts';
import type { KubeObject } from '../../src/sim/cluster-seed.ts';
import { parseIperf3Json } from '../../src/facts/parse/iperf3.ts';

const skip = labRequirement();
let lab: Lab;
let sim: SimulatedFlannel;
let runner: PodRunner;

before(async () => {
  if (skip) return;
  lab = await createLab({ nodes: 2, ssh: false, podsPerNode: 1 });
  sim = await startSimulatedFlannel({ lab, backend: 'vxlan' });
  await lab.startPods();
  runner = startPodRunner({ api: sim.api, lab });
});
after(async () => {
  await runner?.close();
  await sim?.close();
  await lab?.destroy();
});

const pod = (
  name: string,
  node: string,
  command: string[],
  extra: Record<string, unknown> = {},
): KubeObject =>
  sim.api.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      nodeName: node,
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: 'x', command, ...extra }],
    },
  });

const status = (name: string) =>
  sim.api.get('pods', 'default', name)?.status as
    | {
        phase?: string;
        podIP?: string;
        conditions?: { type: string; status: string }[];
        containerStatuses?: { state?: { terminated?: { exitCode: number } } }[];
      }
    | undefined;

const waitFor = async <T>(what: string, fn: () => T | undefined, timeoutMs = 20_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const log = async (name: string): Promise<string> => {
  const res = await fetch(`${sim.api.url}/api/v1/namespaces/default/pods/${name}/log`, {
    headers: { Authorization: `Bearer ${sim.api.token}` },
  });
  return res.text();
};

const netnsExists = (netns: string): boolean =>
  spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .some((l) => l.split(' ')[0] === netns);

test('iperf3 between two runner pods on different nodes, through the vxlan routes', { skip }, async () => {
  pod('server', 'node-1', ['iperf3', '-s', '-p', '5201'], { readinessProbe: { tcpSocket: { port: 5201 } } });
  const ip = await waitFor('server ready', () => {
    const s = status('server');
    return s?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? s.podIP : undefined;
  });
  assert.match(ip, /^10\.244\.1\.\d+$/, "an address from node-1's podCIDR (host-local)");
  assert.ok(
    lab.node('node-1').pods.every((p) => p.address !== ip),
    'host-local never hands out the lab pod address again',
  );
  pod('client', 'node-2', ['iperf3', '-c', ip, '-p', '5201', '-t', '1', '-J']);
  const phase = await waitFor('client done', () => {
    const p = status('client')?.phase;
    return p === 'Succeeded' || p === 'Failed' ? p : undefined;
  });
  assert.equal(phase, 'Succeeded', await log('client'));
  const result = parseIperf3Json(await log('client'));
  assert.equal(result.error, null);
  assert.ok((result.receivedBitsPerSecond ?? 0) > 0);
  assert.equal(status('client')?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);

  const netns = runner.pods().find((p) => p.name === 'server')!.netns;
  assert.ok(netnsExists(netns));
  await fetch(`${sim.api.url}/api/v1/namespaces/default/pods/server`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${sim.api.token}` },
  });
  await waitFor('server sandbox gone', () => !netnsExists(netns));
  assert.equal(
    runner.pods().some((p) => p.name === 'server'),
    false,
  );
});

test('a failing container ends the pod Failed with its exit code and output', { skip }, async () => {
  pod('fails', 'node-1', ['sh', '-c', 'echo about to fail; exit 3']);
  await waitFor('failed', () => (status('fails')?.phase === 'Failed' ? true : undefined));
  assert.equal(status('fails')?.containerStatuses?.[0]?.state?.terminated?.exitCode, 3);
  assert.equal(await log('fails'), 'about to fail\n');
});
