// kubelet's FailedCreatePodSandBox events in the API emulator, read by the real kubectl: a pod whose
// sandbox keeps failing stays Pending in ContainerCreating, the event is in `kubectl get events` and
// in `kubectl describe pod` (counted, not a flood), and the pod runs once the sandbox succeeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlRequirement } from '../helpers/requirements.ts';
import { eventually, seedNodes } from '../helpers/apiserver.ts';
import { PodSandboxError, startApiServer } from '../../src/sim/apiserver/index.ts';

const skip = kubectlRequirement();

const FLANNEL_ERROR =
  'plugin type="flannel" failed (add): failed to load flannel \'subnet.env\' file: open /run/flannel/subnet.env: no such file or directory. Check the flannel pod log for this node.';

test(
  "a failing pod sandbox: kubectl get events and describe pod show kubelet's event; the pod runs once it succeeds",
  { skip },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'flannelctl-kubectl-'));
    const server = await startApiServer({
      readyDelayMs: 20,
      sandboxRetryMs: 50,
      seed: { nodes: seedNodes(2) },
    });
    t.after(async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    });
    const kubeconfig = join(dir, 'kubeconfig');
    await server.writeKubeconfig(kubeconfig);
    const env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig };
    const kubectl = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile('kubectl', args, { env, timeout: 60_000 }, (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
        });
      });

    let attempts = 0;
    let broken = true;
    server.onPodStarted(() => {
      attempts++;
      if (broken)
        throw new PodSandboxError(
          `rpc error: code = Unknown desc = failed to setup network for sandbox "${attempts.toString(16).padStart(64, '0')}": ${FLANNEL_ERROR}`,
        );
    });
    server.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-0', namespace: 'default' },
      spec: { nodeName: 'node-2', containers: [{ name: 'main', image: 'nginx' }] },
    });
    await eventually(() => (attempts >= 3 ? true : undefined), 'three attempts');
    const pod = () =>
      server.get('pods', 'default', 'web-0')!.status as {
        phase: string;
        containerStatuses: { state: { waiting?: { reason: string } } }[];
      };
    assert.equal(pod().phase, 'Pending');
    assert.equal(pod().containerStatuses[0]!.state.waiting?.reason, 'ContainerCreating');

    const events = await kubectl('get', 'events', '-n', 'default');
    assert.equal(events.code, 0, events.stderr);
    const rows = events.stdout.split('\n').filter((l) => /FailedCreatePodSandBox/.test(l));
    assert.ok(rows.length >= 3, events.stdout);
    for (const row of rows)
      assert.match(
        row,
        /Warning\s+FailedCreatePodSandBox\s+pod\/web-0\s+Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "[0-9a-f]{64}": plugin type="flannel" failed \(add\): failed to load flannel 'subnet\.env' file/,
      );

    // Past the tenth distinct sandbox ID the recorder combines them: one Event, counted.
    await eventually(
      () =>
        server
          .list('events', 'default')
          .some(
            (e) =>
              String((e as { message?: string }).message).startsWith('(combined from similar events)') &&
              (e as { count?: number }).count! >= 2,
          )
          ? true
          : undefined,
      'the combined event counted twice',
    );
    const described = await kubectl('describe', 'pod', 'web-0', '-n', 'default');
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /^Status:\s+Pending$/m);
    assert.match(
      described.stdout,
      /Warning\s+FailedCreatePodSandBox\s+\S+ \(x\d+ over \S+\)\s+kubelet\s+\(combined from similar events\): Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "[0-9a-f]{64}": plugin type="flannel" failed \(add\)/,
    );
    assert.ok(
      server.list('events', 'default').length <= 10,
      'at most nine single events and the combined one',
    );

    broken = false;
    await eventually(() => (pod().phase === 'Running' ? true : undefined), 'Running');
  },
);
