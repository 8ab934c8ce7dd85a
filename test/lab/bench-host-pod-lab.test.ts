// bench --mode host without SSH: with --node-access kube-exec or daemonset the nodes are reached through
// pods, whose flannel image has no iperf3, so a hostNetwork pod per node runs the bench image's iperf3 and
// ping in the node's own network namespace (the lab pod runner), with only the capabilities its spec
// grants (setpriv). The figures are real, the server address is the node's, and nothing is left behind:
// no pod, namespace, DaemonSet, ConfigMap, nor process on the nodes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { labRequirement } from '../helpers/requirements.ts';
import { runCli } from '../helpers/cli.ts';
import { tryRun } from '../../src/lab/command.ts';
import { createLab } from '../../src/lab/lab.ts';
import type { Lab } from '../../src/lab/types.ts';
import { startSimulatedFlannel, type SimulatedFlannel } from '../../src/sim/flannel-agent/index.ts';
import { startPodRunner, type PodRunner } from '../../src/sim/pod-runner/index.ts';
import type { KubeObject } from '../../src/sim/cluster-seed.ts';
import type { BenchResult } from '../../src/bench/result.ts';

const skip = labRequirement();
let lab: Lab;
let sim: SimulatedFlannel;
let runner: PodRunner;

before(async () => {
  if (skip) return;
  lab = await createLab({ nodes: 2, ssh: false });
  sim = await startSimulatedFlannel({ lab, backend: 'host-gw' });
  runner = startPodRunner({ api: sim.api, lab });
});
after(async () => {
  await runner?.close();
  await sim?.close();
  await lab?.destroy();
});

/** The processes running in a node's network namespace, by command name. */
const processesIn = async (netns: string): Promise<{ pid: number; comm: string }[]> => {
  const pids = (await tryRun('ip', ['netns', 'pids', netns])).stdout.split(/\s+/).filter(Boolean);
  return pids.flatMap((pid) => {
    try {
      return [{ pid: Number(pid), comm: readFileSync(`/proc/${pid}/comm`, 'utf8').trim() }];
    } catch {
      return [];
    }
  });
};

/** CapEff and NoNewPrivs of the first iperf3 server seen in the node's namespace while the run lasts. */
const watchServerPrivileges = (netns: string) => {
  let seen: string[] | undefined;
  let stopped = false;
  const done = (async () => {
    while (!stopped && !seen) {
      for (const p of await processesIn(netns)) {
        if (p.comm !== 'iperf3') continue;
        try {
          seen = readFileSync(`/proc/${p.pid}/status`, 'utf8')
            .split('\n')
            .filter((l) => /^(CapEff|NoNewPrivs):/.test(l))
            .map((l) => l.split(/\s+/).join(' '));
        } catch {
          /* it just ended */
        }
      }
      await new Promise((r) => setTimeout(r, 30));
    }
  })();
  return async () => {
    stopped = true;
    await done;
    return seen;
  };
};

for (const mode of ['kube-exec', 'daemonset'] as const) {
  test(
    `bench --mode host --node-access ${mode}: hostNetwork iperf3 pods measure node to node`,
    { skip },
    async () => {
      const started: KubeObject[] = [];
      const stop = sim.api.onPodStarted((pod) => {
        if (pod.metadata?.labels?.['flannelctl.io/bench-run']) started.push(structuredClone(pod));
      });
      const privileges = watchServerPrivileges(lab.node('node-2').netns);
      let r;
      try {
        r = await runCli([
          'bench',
          '--kubeconfig',
          sim.kubeconfig,
          '--mode',
          'host',
          '--node-access',
          mode,
          '--from',
          'node-1',
          '--to',
          'node-2',
          '-t',
          '1',
          '--repeat',
          '1',
          '--latency-count',
          '3',
          '-o',
          'json',
        ]);
      } finally {
        stop();
      }
      assert.equal(r.code, 0, r.stderr);
      const result = JSON.parse(r.stdout) as BenchResult;
      assert.deepEqual(
        result.results.map((p) => p.path),
        ['host'],
      );
      const host = result.results[0]!;
      assert.equal(host.serverIP, lab.node('node-2').address, 'the server is node-2 itself');
      assert.equal(host.clientIP, lab.node('node-1').address, 'the client is node-1 itself');
      assert.ok(host.tcp.gbps.median > 0, 'TCP throughput measured');
      assert.ok(host.tcp.nodeCpuSender && host.tcp.nodeCpuReceiver, 'node CPU read through node access');
      assert.ok(host.latency && host.latency.received === 3 && host.latency.p50Ms! > 0, 'RTT measured');
      assert.equal(result.settings.image, 'networkstatic/iperf3', 'the bench image ran');
      assert.equal(result.cluster.mtu, 1500, 'subnet.env read through node access');

      // Pods on the host network in flannel's namespace, holding nothing: ping's NET_RAW is all that is added.
      assert.deepEqual(started.map((p) => p.metadata?.name?.replace(/^bench-[0-9a-f]{6}-/, '')).sort(), [
        'host-ping-2',
        'host-server',
        'host-tcp-1',
      ]);
      for (const pod of started) {
        const spec = pod.spec as {
          hostNetwork?: boolean;
          automountServiceAccountToken?: boolean;
          containers: { securityContext?: Record<string, unknown> }[];
        };
        assert.equal(pod.metadata?.namespace, 'kube-flannel');
        assert.equal(spec.hostNetwork, true);
        assert.equal(spec.automountServiceAccountToken, false);
        const ping = pod.metadata!.name!.includes('-ping-');
        assert.deepEqual(spec.containers[0]!.securityContext, {
          privileged: false,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'], ...(ping ? { add: ['NET_RAW'] } : {}) },
          seccompProfile: { type: 'RuntimeDefault' },
        });
      }
      assert.deepEqual(await privileges(), ['CapEff: 0000000000000000', 'NoNewPrivs: 1']);

      // Nothing left: no flannelctl object, no bench namespace, no pod process on either node.
      const deadline = Date.now() + 5000;
      while (runner.pods().length > 0 && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 50));
      assert.deepEqual(runner.pods(), []);
      for (const resource of ['pods', 'daemonsets', 'configmaps'])
        assert.deepEqual(sim.api.list(resource, undefined, 'app.kubernetes.io/managed-by=flannelctl'), []);
      assert.equal(sim.api.get('namespaces', undefined, 'flannelctl-bench'), undefined);
      for (const node of lab.nodes) {
        const left = (await processesIn(node.netns)).filter((p) => ['iperf3', 'ping'].includes(p.comm));
        assert.deepEqual(left, [], `nothing runs on ${node.name}`);
      }
    },
  );
}
