// flannel-io/cni-plugin flannel.go cmdAdd: when /run/flannel/subnet.env cannot be opened the plugin
// fails with "failed to load flannel 'subnet.env' file: open …: no such file or directory. Check the
// flannel pod log for this node." (before 2025: "loadFlannelSubnetEnv failed: …"). It runs under the
// container runtime, so kubelet reports it (kuberuntime_manager.go: a Warning event, reason
// FailedCreatePodSandBox, "Failed to create pod sandbox: <CRI error>", source.host = the node).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { podSandboxCheck } from '../../src/checks/pod-sandbox.ts';
import { buildClusterFacts } from '../../src/facts/cluster-facts.ts';
import { editNode, healthyInput, problems } from '../helpers/cluster-facts-fixtures.ts';

const containerd = (plugin: string) =>
  `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "3f9c0d2e6b1a": plugin type="flannel" failed (add): ${plugin}`;
const MISSING = containerd(
  "failed to load flannel 'subnet.env' file: open /run/flannel/subnet.env: no such file or directory. Check the flannel pod log for this node.",
);
const MISSING_OLD_PLUGIN = containerd(
  'loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory',
);

/** A core/v1 Event as kubelet writes it for a pod on `node`. */
const sandboxEvent = (node: string, pod: string, message: string, count = 1) => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: `${pod}.17c2a3b4c5d6e7f8`, namespace: 'default' },
  involvedObject: { kind: 'Pod', namespace: 'default', name: pod, apiVersion: 'v1' },
  reason: 'FailedCreatePodSandBox',
  type: 'Warning',
  message,
  source: { component: 'kubelet', host: node },
  count,
  firstTimestamp: '2026-12-02T10:00:00Z',
  lastTimestamp: `2026-12-02T10:0${count}:00Z`,
});

const withEvents = (events?: unknown[]) => {
  const { events: _none, ...api } = healthyInput('host-gw').api!;
  return buildClusterFacts({ ...healthyInput('host-gw'), api: { ...api, ...(events ? { events } : {}) } });
};
const noSubnetEnv = (facts: ReturnType<typeof withEvents>, node: string) =>
  editNode(facts, node, (f) => ({ ...f, subnetEnv: 'missing' }));

describe('pod-sandbox check: the CNI plugin signals in FailedCreatePodSandBox events', () => {
  it('a missing subnet.env fails on the node whose kubelet reported it, naming the pods', () => {
    const facts = noSubnetEnv(
      withEvents([sandboxEvent('node-2', 'web-7d4b9', MISSING, 4), sandboxEvent('node-2', 'db-0', MISSING)]),
      'node-2',
    );
    const findings = podSandboxCheck.evaluate(facts);
    assert.deepEqual(problems(findings), ['fail pod-sandbox/subnet-env-missing node-2']);
    assert.match(findings[0]!.message, /default\/web-7d4b9, default\/db-0/);
    assert.match(
      findings[0]!.evidence[0]!,
      /^default\/web-7d4b9: 4 × FailedCreatePodSandBox, last 2026-12-02T10:04:00Z: /,
    );
    assert.match(
      findings[0]!.remediation!,
      /kubectl -n kube-flannel logs kube-flannel-ds-node-2 -c kube-flannel/,
    );
  });

  it('the older plugin wording is the same signal', () => {
    const facts = noSubnetEnv(withEvents([sandboxEvent('node-1', 'web-1', MISSING_OLD_PLUGIN)]), 'node-1');
    assert.deepEqual(problems(podSandboxCheck.evaluate(facts)), [
      'fail pod-sandbox/subnet-env-missing node-1',
    ]);
  });

  it('an event from before flanneld wrote subnet.env is history once the file exists', () => {
    const findings = podSandboxCheck.evaluate(withEvents([sandboxEvent('node-3', 'web-2', MISSING)]));
    assert.deepEqual(problems(findings), ['info pod-sandbox/subnet-env-missing node-3']);
    assert.equal(findings[0]!.remediation, undefined);
  });

  it('other flannel plugin failures warn with the event as evidence; other plugins are not ours', () => {
    const exhausted = containerd(
      'failed to delegate add: failed to allocate for range 0: no IP addresses available in range set: 10.244.1.1-10.244.1.254',
    );
    const calico = `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "ab": plugin type="calico" failed (add): connection refused`;
    const findings = podSandboxCheck.evaluate(
      withEvents([sandboxEvent('node-1', 'web-3', exhausted), sandboxEvent('node-2', 'web-4', calico)]),
    );
    assert.deepEqual(problems(findings), ['warn pod-sandbox/flannel-cni-failed node-1']);
    assert.match(findings[0]!.evidence[0]!, /no IP addresses available/);
  });

  it('passes with no matching event, ignores nodes outside the selection, and skips when not read', () => {
    const elsewhere = withEvents([sandboxEvent('node-9', 'web-5', MISSING)]);
    assert.deepEqual(problems(podSandboxCheck.evaluate(elsewhere)), []);
    assert.match(podSandboxCheck.evaluate(elsewhere)[0]!.message, /1 FailedCreatePodSandBox events read/);
    assert.deepEqual(problems(podSandboxCheck.evaluate(withEvents())), ['skipped pod-sandbox/skipped']);
  });
});
