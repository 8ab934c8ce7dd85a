import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configCheck } from '../../src/checks/config.ts';
import { flannelHealthCheck } from '../../src/checks/flannel-health.ts';
import { flannelLogsCheck, LOG_SIGNATURES } from '../../src/checks/flannel-logs.ts';
import { buildClusterFacts } from '../../src/facts/cluster-facts.ts';
import {
  HOSTS,
  apiNode,
  configMap,
  flannelPod,
  healthyCluster,
  healthyInput,
  problems,
} from '../helpers/cluster-facts-fixtures.ts';

const withApi = (
  edit: (api: NonNullable<ReturnType<typeof healthyInput>['api']>) => object,
  backend: 'host-gw' | 'vxlan' = 'host-gw',
) => {
  const input = healthyInput(backend);
  return buildClusterFacts({ ...input, api: { ...input.api!, ...edit(input.api!) } as typeof input.api });
};

describe('flannel-health check', () => {
  it('passes a healthy install, one finding per node', () => {
    const findings = flannelHealthCheck.evaluate(healthyCluster('host-gw'));
    assert.deepEqual(problems(findings), []);
    assert.deepEqual(
      findings.map((f) => f.node),
      ['node-1', 'node-2', 'node-3'],
    );
  });

  it('fails when the DaemonSet is missing', () => {
    const facts = withApi(() => ({ daemonSet: undefined }));
    assert.deepEqual(problems(flannelHealthCheck.evaluate(facts)), ['fail flannel-health/daemonset-missing']);
  });

  it('reports not-Ready and crash-looping pods, mixed images, a node without a pod and NetworkUnavailable=True', () => {
    const [h1, h2, h3] = HOSTS as [(typeof HOSTS)[0], (typeof HOSTS)[0], (typeof HOSTS)[0]];
    const down = apiNode(h3, 'host-gw') as ReturnType<typeof apiNode>;
    down.status.conditions[0] = {
      type: 'NetworkUnavailable',
      status: 'True',
      reason: 'NoRouteCreated',
      message: 'not yet',
    };
    const facts = withApi(() => ({
      nodes: [apiNode(h1, 'host-gw'), apiNode(h2, 'host-gw'), down],
      pods: [
        flannelPod(h1, { ready: false, restarts: 7 }),
        flannelPod(h2, { image: 'ghcr.io/flannel-io/flannel:v0.28.8' }),
      ],
    }));
    assert.deepEqual(problems(flannelHealthCheck.evaluate(facts)), [
      'warn flannel-health/mixed-images',
      'fail flannel-health/pod-not-ready node-1',
      'warn flannel-health/restarts node-1',
      'fail flannel-health/pod-missing node-3',
      'fail flannel-health/network-unavailable node-3',
    ]);
  });

  it('skips without API facts', () => {
    const input = healthyInput('host-gw');
    const facts = buildClusterFacts({ nodes: input.nodes! });
    assert.deepEqual(problems(flannelHealthCheck.evaluate(facts)), ['skipped flannel-health/skipped']);
  });
});

describe('config check', () => {
  it('passes the default-like net-conf.json', () => {
    assert.deepEqual(problems(configCheck.evaluate(healthyCluster('host-gw'))), []);
  });

  it('fails a net-conf.json without Backend (flanneld silently runs udp)', () => {
    const facts = withApi(() => ({ configMap: configMap({ Network: '10.244.0.0/16' }) }));
    assert.deepEqual(problems(configCheck.evaluate(facts)), ['fail config/backend-implicit']);
    assert.equal(facts.expectedBackend.value, 'udp');
  });

  it('fails invalid JSON with the parse error', () => {
    const facts = withApi(() => ({ configMap: configMap('{"Network": "10.244.0.0/16",') }));
    const [finding] = configCheck.evaluate(facts);
    assert.equal(finding!.code, 'config/net-conf-invalid');
    assert.match(finding!.message, /net-conf\.json/);
  });

  it('names nodes whose podCIDR is missing, outside Network, or overlapping another', () => {
    const [h1, h2, h3] = HOSTS as [(typeof HOSTS)[0], (typeof HOSTS)[0], (typeof HOSTS)[0]];
    const outside = apiNode(h1, 'host-gw');
    outside.spec = { podCIDR: '10.99.1.0/24', podCIDRs: ['10.99.1.0/24'] };
    const overlap = apiNode(h3, 'host-gw');
    overlap.spec = { podCIDR: '10.244.2.128/25', podCIDRs: ['10.244.2.128/25'] };
    const none = apiNode({ ...h2, name: 'node-4' }, 'host-gw');
    none.spec = { podCIDR: '', podCIDRs: [] } as typeof none.spec;
    const facts = withApi(() => ({ nodes: [outside, apiNode(h2, 'host-gw'), overlap, none] }));
    assert.deepEqual(problems(configCheck.evaluate(facts)), [
      'fail config/podcidr-outside-network node-1',
      'fail config/podcidr-missing node-4',
      'fail config/podcidr-overlap node-3→node-2',
    ]);
  });
});

describe('flannel-logs check', () => {
  const logsFor = (lines: Record<string, string>) =>
    healthyCluster('host-gw', {
      logs: Object.fromEntries(
        HOSTS.map((h) => [`kube-flannel-ds-${h.name}`, lines[h.name] ?? 'I1126 main.go:1] ok\n']),
      ),
    });

  it('matches known failure signatures with an explanation and a fix naming the node', () => {
    const facts = logsFor({
      'node-1':
        'E1126 10:00:00 route_network.go:143] Error adding route to {Ifindex: 2 Dst: 10.244.4.0/24 Src: <nil> Gw: 192.168.78.14 Flags: [] Table: 0 Realm: 0}: network is unreachable\n',
      'node-2':
        'E1126 main.go:338] Failed to check br_netfilter: stat /proc/sys/net/bridge/bridge-nf-call-iptables: no such file or directory\n',
      'node-3':
        'I1126 hostgw.go:90] Ignoring non-host-gw subnet: type=vxlan\nI1126 route_network.go:86] Replacing existing route to 10.244.1.0/24 via 10.244.1.0 dev index 5 with 10.244.1.0/24 via 192.168.77.11 dev index 2\n',
    });
    const findings = flannelLogsCheck.evaluate(facts);
    assert.deepEqual(problems(findings), [
      'fail flannel-logs/route-network-unreachable node-1',
      'fail flannel-logs/br-netfilter-missing node-2',
      'info flannel-logs/mixed-backends node-3',
      'info flannel-logs/route-replaced node-3',
    ]);
    assert.match(findings[2]!.message, /every node now runs host-gw/);
    assert.match(findings[1]!.remediation!, /modprobe br_netfilter .* # on node-2$/);
    assert.match(findings[0]!.evidence[0]!, /network is unreachable$/);
  });

  it('warns about mixed backends only while the nodes still disagree', () => {
    const facts = logsFor({ 'node-3': 'I1126 hostgw.go:90] Ignoring non-host-gw subnet: type=vxlan\n' });
    const mixed = {
      ...facts,
      api: {
        ...facts.api!,
        nodes: facts.api!.nodes.map((n) =>
          n.name === 'node-2' ? { ...n, flannel: { ...n.flannel, backendType: 'vxlan' } } : n,
        ),
      },
    };
    assert.deepEqual(problems(flannelLogsCheck.evaluate(mixed)), ['warn flannel-logs/mixed-backends node-3']);
    assert.match(
      flannelLogsCheck.evaluate(mixed).find((f) => f.node === 'node-3')!.remediation!,
      /rollout status/,
    );
  });

  it('recognises each documented signature', () => {
    const samples: Record<string, string> = {
      'public-ip-nat':
        "failed to create backend: your PublicIP differs from interface IP, meaning that probably you're on a NAT",
      'pod-cidr-not-assigned':
        'Error registering network: failed to acquire lease: node "node-1" pod cidr not assigned',
      'podcidr-outside-network':
        'subnet "10.244.0.0/16" specified in the flannel net config doesn\'t contain "10.99.0.0/24" PodCIDR of the "node-1" node',
    };
    for (const [id, line] of Object.entries(samples)) {
      const hit = LOG_SIGNATURES.filter((s) => s.pattern.test(line)).map((s) => s.id);
      assert.ok(hit.includes(id), `${id}: ${hit.join(', ')}`);
    }
  });

  it("does not look for the CNI plugin's subnet.env error: flanneld never logs it (pod-sandbox check)", () => {
    const cni =
      "failed to load flannel 'subnet.env' file: open /run/flannel/subnet.env: no such file or directory. Check the flannel pod log for this node.";
    assert.deepEqual(
      LOG_SIGNATURES.filter((s) => s.pattern.test(cni) || /subnet\.?env/i.test(s.pattern.source)).map(
        (s) => s.id,
      ),
      [],
    );
  });

  it('skips pods whose logs were not gathered', () => {
    const input = healthyInput('host-gw');
    const facts = buildClusterFacts({ ...input, api: { ...input.api!, logs: {} } });
    assert.deepEqual(problems(flannelLogsCheck.evaluate(facts)), [
      'skipped flannel-logs/skipped node-1',
      'skipped flannel-logs/skipped node-2',
      'skipped flannel-logs/skipped node-3',
    ]);
  });
});
