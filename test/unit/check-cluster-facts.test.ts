import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  apiNodeFrom,
  buildClusterFacts,
  daemonSetFactsFrom,
  flannelPodFrom,
} from '../../src/facts/cluster-facts.ts';
import {
  HOSTS,
  apiNode,
  flannelDaemonSet,
  flannelPod,
  healthyInput,
  loadProbeFacts,
} from '../helpers/cluster-facts-fixtures.ts';

describe('buildClusterFacts', () => {
  it('turns a V1Node into the flannel view: InternalIP, podCIDRs, annotations, VtepMAC, NetworkUnavailable', () => {
    const node = apiNodeFrom(apiNode(HOSTS[1]!, 'vxlan'));
    assert.equal(node.name, 'node-2');
    assert.equal(node.internalIP, '192.168.77.12');
    assert.deepEqual(node.podCIDRs, ['10.244.2.0/24']);
    assert.deepEqual(node.flannel, {
      backendType: 'vxlan',
      backendData: '{"VNI":1,"VtepMAC":"0e:fc:00:00:00:12"}',
      vtepMac: '0e:fc:00:00:00:12',
      publicIp: '192.168.77.12',
      publicIpv6: null,
      backendV6Data: null,
      vtepMacV6: null,
      nodePublicIp: null,
      publicIpOverwrite: null,
      kubeSubnetManager: true,
    });
    assert.deepEqual(node.networkUnavailable, {
      type: 'NetworkUnavailable',
      status: 'False',
      reason: 'FlannelIsUp',
      message: 'Flannel is running on this node',
    });
  });

  it('reads the DaemonSet rollout state and --ip-masq, and pod readiness, restarts and log lines', () => {
    const ds = daemonSetFactsFrom(flannelDaemonSet(3));
    assert.equal(ds.updateStrategy, 'RollingUpdate');
    assert.equal(ds.ipMasq, true);
    assert.equal(ds.image, 'ghcr.io/flannel-io/flannel:v0.28.9');
    const pod = flannelPodFrom(flannelPod(HOSTS[0]!, { ready: false, restarts: 4 }), 'line one\nline two\n');
    assert.deepEqual(
      [pod.node, pod.ready, pod.restartCount, pod.templateGeneration, pod.logLines],
      ['node-1', false, 4, 1, ['line one', 'line two']],
    );
  });

  it("reads cni-conf.json's flannel delegate, and keeps its parse error instead of throwing", () => {
    const input = healthyInput('host-gw');
    const withCni = (text: string) =>
      buildClusterFacts({
        ...input,
        api: {
          ...input.api!,
          configMap: { metadata: { name: 'kube-flannel-cfg' }, data: { 'cni-conf.json': text } },
        },
      }).api!.flannel!.cniConf;
    const delegate = { hairpinMode: true, isDefaultGateway: true, ipMasq: false };
    const conf = { name: 'cbr0', cniVersion: '0.3.1', plugins: [{ type: 'flannel', delegate }] };
    assert.deepEqual(withCni(JSON.stringify(conf))?.delegate, delegate);
    assert.match(withCni('{')!.error!, /cni-conf\.json/);
    assert.match(
      withCni(JSON.stringify({ ...conf, plugins: [{ type: 'bridge' }] }))!.error!,
      /no flannel plugin/,
    );
  });

  it('keeps a net-conf.json parse error instead of throwing', () => {
    const input = healthyInput('host-gw');
    const facts = buildClusterFacts({
      ...input,
      api: {
        ...input.api!,
        configMap: { metadata: { name: 'kube-flannel-cfg' }, data: { 'net-conf.json': '{' } },
      },
    });
    assert.equal(facts.api!.flannel!.netConf, null);
    assert.match(facts.api!.flannel!.netConfError!, /net-conf\.json/);
  });

  it('takes the expected backend from --backend, then the ConfigMap, then the devices', () => {
    const input = healthyInput('vxlan');
    assert.deepEqual(buildClusterFacts({ ...input, backend: 'host-gw' }).expectedBackend, {
      value: 'host-gw',
      source: 'flag',
      reason: '--backend host-gw',
    });
    assert.equal(buildClusterFacts(input).expectedBackend.source, 'configmap');
    const inventoryOnly = buildClusterFacts({ nodes: input.nodes! });
    assert.deepEqual(inventoryOnly.expectedBackend, {
      value: 'vxlan',
      source: 'inferred',
      reason: 'inferred: a flannel VXLAN device exists on 3 of 3 probed nodes',
    });
    const hostGw = buildClusterFacts({
      nodes: [{ name: 'node-1', facts: loadProbeFacts('iproute2-6.1.0/host-gw') }],
    });
    assert.equal(hostGw.expectedBackend.value, 'host-gw');
    assert.equal(buildClusterFacts({}).expectedBackend.source, 'unknown');
  });

  it('accepts gatherNodeFacts results, keeping the access issue of unreachable nodes', () => {
    const facts = buildClusterFacts({
      nodes: [
        {
          node: 'node-10',
          ok: true,
          facts: { ...loadProbeFacts('iproute2-6.1.0/host-gw'), name: 'node-10' },
        },
        {
          node: 'node-2',
          ok: false,
          issue: { node: 'node-2', kind: 'host-key-changed', message: 'host key changed' },
        },
      ],
    });
    assert.deepEqual(
      facts.nodes.map((n) => [n.name, n.address, n.issue?.kind ?? null]),
      [
        ['node-2', null, 'host-key-changed'],
        ['node-10', '192.168.77.11', null],
      ],
    );
  });
});
