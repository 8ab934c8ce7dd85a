// The host-gw preflight rules that flanneld and the kernel enforce, each named after the upstream file
// it follows: flanneld's interface choice (flannel main.go, pkg/ipmatch/match.go), host-gw's NAT
// refusal (pkg/backend/hostgw/hostgw.go New), public-ip-overwrite (pkg/subnet/kube/kube.go), clouds
// that drop pod IPs (spec.providerID), and strict rp_filter in the mixed-backend window
// (pkg/backend/route_network.go routeAdd replaces one end of a pair at a time).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildClusterFacts,
  type ClusterFacts,
  type ClusterFactsInput,
} from '../../src/facts/cluster-facts.ts';
import type { NodeFacts } from '../../src/facts/node-facts.ts';
import { flanneldInterfaceFlags } from '../../src/flannel/flanneld-flags.ts';
import { ANNOTATIONS } from '../../src/flannel/names.ts';
import { externalInterface } from '../../src/checks/external-interface.ts';
import { HOST_GW_NAT_ERROR, hostGwCheck } from '../../src/checks/host-gw.ts';
import { mixedWindowCheck } from '../../src/checks/mixed-window.ts';
import { runPreflight } from '../../src/migrate/preflight.ts';
import { healthyInput, loadProbeFacts, problems } from '../helpers/cluster-facts-fixtures.ts';

type Raw = Record<string, unknown> & {
  metadata: { name: string; annotations: Record<string, string> };
  spec: Record<string, unknown>;
};

/** A healthy cluster's raw input with node annotations, providerIDs or flanneld args changed. */
const cluster = (
  backend: 'host-gw' | 'vxlan',
  edit: {
    annotations?: Record<string, Record<string, string>>;
    providerIDs?: Record<string, string>;
    args?: string[];
    env?: { name: string; value: string }[];
    facts?: Record<string, (f: NodeFacts) => NodeFacts>;
  } = {},
  expected?: 'host-gw',
): ClusterFacts => {
  const input = healthyInput(backend);
  const nodes = (input.api!.nodes as Raw[]).map((n) => {
    const name = n.metadata.name;
    return {
      ...n,
      metadata: { ...n.metadata, annotations: { ...n.metadata.annotations, ...edit.annotations?.[name] } },
      spec: { ...n.spec, ...(edit.providerIDs?.[name] ? { providerID: edit.providerIDs[name] } : {}) },
    };
  });
  const ds = structuredClone(input.api!.daemonSet) as {
    spec: { template: { spec: { containers: { args: string[]; env?: unknown }[] } } };
  };
  const container = ds.spec.template.spec.containers[0]!;
  if (edit.args) container.args = [...container.args, ...edit.args];
  if (edit.env) container.env = edit.env;
  const withFacts: ClusterFactsInput = {
    api: { ...input.api!, nodes, daemonSet: ds },
    nodes: input.nodes!.map((n) => {
      const change = edit.facts?.[(n as { name: string }).name];
      const f = (n as { facts: NodeFacts }).facts;
      return { ...n, facts: change ? change(f) : f };
    }) as ClusterFactsInput['nodes'],
  };
  const facts = buildClusterFacts(withFacts);
  return expected
    ? { ...facts, expectedBackend: { value: expected, source: 'flag', reason: '--for host-gw' } }
    : facts;
};

const rpStrict = (f: NodeFacts): NodeFacts => ({
  ...f,
  sysctls: { ...f.sysctls!, rpFilter: { ...f.sysctls!.rpFilter, all: 1 } },
});

describe('flanneld interface flags (flannel main.go, coreos/pkg/flagutil)', () => {
  it('reads --flag=v, -flag v, repeated --iface in order, and FLANNELD_* env only for flags not given', () => {
    assert.deepEqual(
      flanneldInterfaceFlags(
        [
          '/opt/bin/flanneld',
          '--iface=eth1',
          '-iface',
          '10.0.0.5',
          '--iface-regex=^10\\.',
          '--public-ip',
          '1.2.3.4',
        ],
        [
          { name: 'FLANNELD_IFACE', value: 'eth9' },
          { name: 'FLANNELD_IFACE_CAN_REACH', value: '8.8.8.8' },
          { name: 'FLANNELD_PUBLIC_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        ],
      ),
      { iface: ['eth1', '10.0.0.5'], ifaceRegex: ['^10\\.'], ifaceCanReach: '8.8.8.8', publicIp: '1.2.3.4' },
    );
  });
});

describe('flanneld external interface (pkg/ipmatch/match.go LookupExtIface)', () => {
  const multiNic = loadProbeFacts('iproute2-6.1.0/rp-filter-multi-nic');
  const none = { iface: [], ifaceRegex: [], ifaceCanReach: null, publicIp: null };

  it('defaults to the default-route interface and its first IPv4 address', () => {
    const ext = externalInterface(multiNic, none, null);
    assert.equal(ext.kind, 'found');
    assert.deepEqual(ext.kind === 'found' && [ext.iface, ext.ifaceAddr, ext.extAddr], [
      'eth0',
      '192.168.77.11',
      '192.168.77.11',
    ]);
  });

  it('with only a public IP, uses the interface holding it, so ExtAddr equals IfaceAddr', () => {
    const ext = externalInterface(multiNic, none, { value: '10.10.0.11', source: '--public-ip' });
    assert.deepEqual(ext.kind === 'found' && [ext.iface, ext.ifaceAddr, ext.extAddr], [
      'eth1',
      '10.10.0.11',
      '10.10.0.11',
    ]);
  });

  it('tries each --iface in order, then --iface-regex on addresses', () => {
    const byName = externalInterface(multiNic, { ...none, iface: ['eth7', 'eth1'] }, null);
    assert.deepEqual(byName.kind === 'found' && [byName.iface, byName.ifaceAddr], ['eth1', '10.10.0.11']);
    const byRegex = externalInterface(multiNic, { ...none, ifaceRegex: ['^10\\.10\\.'] }, null);
    assert.deepEqual(byRegex.kind === 'found' && [byRegex.iface, byRegex.ifaceAddr], ['eth1', '10.10.0.11']);
    const nothing = externalInterface(multiNic, { ...none, iface: ['eth7'] }, null);
    assert.deepEqual(nothing, {
      kind: 'exits',
      log: 'Failed to find interface to use that matches the interfaces and/or regexes provided',
      how: ['--iface=eth7: no such interface with an IPv4 address'],
    });
  });
});

describe('host-gw check', () => {
  it('passes a healthy host-gw cluster and is skipped when the cluster is held to vxlan', () => {
    const ok = hostGwCheck.evaluate(cluster('host-gw'));
    assert.deepEqual(problems(ok), []);
    assert.match(
      ok[0]!.message,
      /flanneld on node-1 uses eth0 with 192\.168\.77\.11 as both interface and public address/,
    );
    assert.deepEqual(problems(hostGwCheck.evaluate(cluster('vxlan'))), ['skipped host-gw/skipped']);
  });

  it('fails with hostgw.go’s own words when node-public-ip differs from the --iface address', () => {
    const facts = cluster(
      'vxlan',
      { args: ['--iface=eth0'], annotations: { 'node-2': { [ANNOTATIONS.nodePublicIp]: '203.0.113.7' } } },
      'host-gw',
    );
    const findings = hostGwCheck.evaluate(facts);
    assert.deepEqual(problems(findings), ['fail host-gw/public-ip-differs node-2']);
    const f = findings.find((x) => x.node === 'node-2')!;
    assert.ok(f.message.includes(`"${HOST_GW_NAT_ERROR}"`), f.message);
    assert.equal(
      HOST_GW_NAT_ERROR,
      "your PublicIP differs from interface IP, meaning that probably you're on a NAT, which is not supported by host-gw backend",
    );
    assert.match(
      f.message,
      /PublicIP 203\.0\.113\.7 from annotation flannel\.alpha\.coreos\.com\/node-public-ip, eth0 has 192\.168\.77\.12/,
    );
    assert.equal(
      f.remediation?.startsWith(`kubectl annotate node node-2 ${ANNOTATIONS.nodePublicIp}-`),
      true,
    );
  });

  it('fails when no interface holds --public-ip (flanneld exits before any backend, main.go)', () => {
    const findings = hostGwCheck.evaluate(cluster('host-gw', { args: ['--public-ip=203.0.113.7'] }));
    assert.deepEqual(problems(findings), [
      'fail host-gw/no-interface node-1',
      'fail host-gw/no-interface node-2',
      'fail host-gw/no-interface node-3',
    ]);
    assert.match(
      findings[0]!.message,
      /"Failed to find any valid interface to use: error looking up interface 203\.0\.113\.7: no interface with given IP found"/,
    );
  });

  it('fails a public-ip-overwrite that is not an address of flanneld’s interface, passes one that is', () => {
    const facts = cluster('host-gw', {
      annotations: {
        'node-1': { [ANNOTATIONS.publicIpOverwrite]: '198.51.100.1' },
        'node-3': { [ANNOTATIONS.publicIpOverwrite]: '192.168.77.13' },
      },
    });
    const findings = hostGwCheck.evaluate(facts);
    assert.deepEqual(problems(findings), ['fail host-gw/public-ip-overwrite node-1']);
    assert.match(
      findings.find((f) => f.node === 'node-1')!.message,
      /routes 10\.244\.1\.0\/24 via 198\.51\.100\.1/,
    );
  });

  it('warns on AWS, Azure and GCE nodes with the setting to change; other providers are fine', () => {
    const facts = cluster('host-gw', {
      providerIDs: {
        'node-1': 'aws:///eu-west-1a/i-0123456789abcdef0',
        'node-2': 'gce://my-project/europe-west1-b/node-2',
        'node-3': 'kind://docker/kind/node-3',
      },
    });
    const findings = hostGwCheck.evaluate(facts);
    assert.deepEqual(problems(findings), [
      'warn host-gw/aws-source-dest-check node-1',
      'warn host-gw/gce-can-ip-forward node-2',
    ]);
    const aws = findings.find((f) => f.code === 'host-gw/aws-source-dest-check')!;
    assert.match(aws.message, /SourceDestCheck/);
    assert.equal(
      aws.remediation,
      'aws ec2 modify-instance-attribute --instance-id i-0123456789abcdef0 --no-source-dest-check',
    );
    assert.match(findings.find((f) => f.code === 'host-gw/gce-can-ip-forward')!.message, /canIpForward/);
    const azure = hostGwCheck.evaluate(
      cluster('host-gw', {
        providerIDs: {
          'node-1':
            'azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1',
          // Not an instance ID: it must not reach the command.
          'node-2': 'aws:///eu-west-1a/i-$(reboot)',
        },
      }),
    );
    assert.match(azure.find((f) => f.node === 'node-1')!.message, /IP forwarding/);
    assert.equal(
      azure.find((f) => f.node === 'node-2')!.remediation,
      'aws ec2 modify-instance-attribute --instance-id <instance of node-2> --no-source-dest-check',
    );
  });
});

describe('mixed-window check', () => {
  it('fails strict rp_filter on any node while vxlan -> host-gw is pending, with check-rpfilter --fix', () => {
    const facts = cluster('vxlan', { facts: { 'node-2': rpStrict } }, 'host-gw');
    const findings = mixedWindowCheck.evaluate(facts);
    assert.deepEqual(problems(findings), ['fail mixed-window/strict-rp-filter node-2']);
    const f = findings.find((x) => x.node === 'node-2')!;
    assert.match(
      f.message,
      /Strict rp_filter on eth0, flannel\.1 of node-2: during the vxlan -> host-gw window/,
    );
    assert.match(f.remediation!, /^flannelctl check-rpfilter --fix --nodes node-2 /);
  });

  it('passes when no switch is pending, and passes loose nodes', () => {
    const none = mixedWindowCheck.evaluate(cluster('host-gw', { facts: { 'node-2': rpStrict } }));
    assert.deepEqual(
      none.map((f) => `${f.code}: ${f.message}`),
      ['mixed-window/ok: no backend switch pending: the ConfigMap and every node run host-gw'],
    );
    assert.deepEqual(problems(mixedWindowCheck.evaluate(cluster('vxlan', {}, 'host-gw'))), []);
  });

  it('judges the flannel.1 a switch to vxlan creates by conf.default', () => {
    const strictDefault = (f: NodeFacts): NodeFacts => ({
      ...f,
      sysctls: { ...f.sysctls!, rpFilter: { ...f.sysctls!.rpFilter, default: 1 } },
    });
    const facts: ClusterFacts = {
      ...cluster('host-gw', { facts: { 'node-3': strictDefault } }),
      expectedBackend: { value: 'vxlan', source: 'flag', reason: 'migrate --to vxlan' },
    };
    assert.deepEqual(problems(mixedWindowCheck.evaluate(facts)), [
      'fail mixed-window/strict-rp-filter node-3',
    ]);
  });
});

describe('migrate preflight gate', () => {
  it('refuses strict rp_filter that the rp-filter check alone only warns about, and shows cloud warnings', () => {
    const facts = cluster('vxlan', {
      facts: { 'node-2': rpStrict },
      providerIDs: { 'node-1': 'aws:///eu-west-1a/i-0123456789abcdef0' },
    });
    const gate = runPreflight(facts, { type: 'host-gw' } as Parameters<typeof runPreflight>[1]);
    assert.equal(gate.passed, false);
    assert.deepEqual(
      gate.failures.map((f) => `${f.code} ${f.node}`),
      ['mixed-window/strict-rp-filter node-2'],
    );
    assert.match(gate.failures[0]!.remediation!, /check-rpfilter --fix/);
    assert.deepEqual(gate.warnings.map((f) => `${f.code} ${f.node}`).sort(), [
      'host-gw/aws-source-dest-check node-1',
      'rp-filter/strict-symmetric node-2',
    ]);
    assert.ok(gate.checks.includes('host-gw') && gate.checks.includes('mixed-window'));
  });
});
