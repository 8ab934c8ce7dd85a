// Hostile annotation values (anyone who may annotate a node can write them) must never reach a fix
// an operator pastes as root: the value is reported as invalid, and no command carries it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annotationsCheck } from '../../src/checks/annotations.ts';
import { kernelCheck } from '../../src/checks/kernel.ts';
import { ALL_CHECKS } from '../../src/checks/registry.ts';
import { buildClusterFacts, type ClusterFactsInput } from '../../src/facts/cluster-facts.ts';
import { buildReport } from '../../src/report/report.ts';
import {
  configMap,
  editNode,
  healthyCluster,
  healthyInput,
  loadProbeFacts,
  problems,
} from '../helpers/cluster-facts-fixtures.ts';

const PUBLIC_IP = 'flannel.alpha.coreos.com/public-ip';
const HOSTILE = '1.2.3.4;touch /tmp/x #';

/** healthyInput with extra annotations on one node. */
const annotated = (
  backend: 'host-gw' | 'vxlan',
  node: string,
  annotations: Record<string, string>,
): ClusterFactsInput => {
  const input = healthyInput(backend);
  const nodes = input.api!.nodes.map((raw) => {
    const n = raw as { metadata: { name: string; annotations: Record<string, string> } };
    return n.metadata.name === node
      ? { ...n, metadata: { ...n.metadata, annotations: { ...n.metadata.annotations, ...annotations } } }
      : n;
  });
  return { ...input, api: { ...input.api!, nodes } };
};

/** Every remediation of every check, and none may hold a trace of the hostile text. */
const remediations = (input: ClusterFactsInput, edit = (f: ReturnType<typeof buildClusterFacts>) => f) =>
  buildReport(edit(buildClusterFacts(input)), ALL_CHECKS)
    .findings.map((f) => f.remediation)
    .filter((r): r is NonNullable<typeof r> => r !== undefined);

describe('annotations check', () => {
  it('passes the healthy fixtures', () => {
    for (const backend of ['host-gw', 'vxlan'] as const) {
      const findings = annotationsCheck.evaluate(healthyCluster(backend));
      assert.deepEqual(problems(findings), []);
      assert.match(findings[0]!.message, /of 3 nodes are valid/);
    }
  });

  it('reports a public-ip that is not an IPv4 address, with the exact text as evidence', () => {
    const findings = annotationsCheck.evaluate(
      buildClusterFacts(annotated('host-gw', 'node-3', { [PUBLIC_IP]: HOSTILE })),
    );
    assert.deepEqual(problems(findings), ['fail annotations/invalid-public-ip node-3']);
    assert.deepEqual(findings[0]!.evidence, [`${PUBLIC_IP} = "1.2.3.4;touch /tmp/x #"`]);
    assert.equal(
      findings[0]!.remediation,
      'kubectl -n kube-flannel delete pod kube-flannel-ds-node-3  # flanneld rewrites it at start; if public-ip-overwrite is set, fix that first',
    );
  });

  it('reports public-ip-overwrite, node-public-ip and public-ipv6 of the wrong kind, fixed by removing them', () => {
    const findings = annotationsCheck.evaluate(
      buildClusterFacts(
        annotated('host-gw', 'node-2', {
          'flannel.alpha.coreos.com/public-ip-overwrite': HOSTILE,
          'flannel.alpha.coreos.com/node-public-ip': 'fd00::1',
          'flannel.alpha.coreos.com/public-ipv6': '192.168.77.12',
        }),
      ),
    );
    assert.deepEqual(problems(findings), [
      'fail annotations/invalid-public-ip-overwrite node-2',
      'fail annotations/invalid-node-public-ip node-2',
      'fail annotations/invalid-public-ipv6 node-2',
    ]);
    assert.match(
      findings[0]!.remediation!,
      /^kubectl annotate node node-2 flannel\.alpha\.coreos\.com\/public-ip-overwrite- {2}# /,
    );
  });

  it('reports a VtepMAC that is not a MAC, and backend-data that is not JSON', () => {
    const bad = (data: string) =>
      problems(
        annotationsCheck.evaluate(
          buildClusterFacts(annotated('vxlan', 'node-2', { 'flannel.alpha.coreos.com/backend-data': data })),
        ),
      );
    assert.deepEqual(bad(JSON.stringify({ VNI: 1, VtepMAC: '0e:fc:00:00:00:12 dst 1.2.3.4;id' })), [
      'fail annotations/invalid-vtep-mac node-2',
    ]);
    assert.deepEqual(bad('{"VNI":1,'), ['fail annotations/invalid-vtep-mac node-2']);
    assert.deepEqual(bad('null'), []);
  });

  it('a hostile public-ip reaches no remediation of any check, even with the route to that node missing', () => {
    const fixes = remediations(annotated('host-gw', 'node-3', { [PUBLIC_IP]: HOSTILE }), (facts) =>
      editNode(facts, 'node-2', (f) => ({
        ...f,
        routes: (f.routes ?? []).filter((r) => r.dst !== '10.244.3.0/24'),
      })),
    );
    assert.ok(fixes.length > 0);
    for (const fix of fixes) assert.doesNotMatch(fix, /touch|1\.2\.3\.4/, fix);
  });

  it('a hostile VtepMAC reaches no neighbour or fdb command', () => {
    const mac = '0e:fc:00:00:00:13 dst 1.2.3.4;touch /tmp/x #';
    const input = annotated('vxlan', 'node-3', {
      'flannel.alpha.coreos.com/backend-data': JSON.stringify({ VNI: 1, VtepMAC: mac }),
    });
    const fixes = remediations(input, (facts) =>
      editNode(facts, 'node-1', (f) => ({ ...f, neighbours: [], fdb: {} })),
    );
    assert.ok(
      fixes.some((f) => /^ip neigh replace /.test(f)),
      'other peers still get their command',
    );
    for (const fix of fixes) assert.doesNotMatch(fix, /touch|1\.2\.3\.4/, fix);
  });

  it('a net-conf.json Network that is not a CIDR gets no firewall command, and config reports it', () => {
    const input = healthyInput('host-gw');
    const hostile = {
      ...input,
      api: {
        ...input.api!,
        configMap: configMap({
          Network: '10.244.0.0/16 -j ACCEPT;touch /tmp/x #',
          Backend: { Type: 'host-gw' },
        }),
      },
    };
    // node-1: the recorded node whose FORWARD policy is DROP without FLANNEL-FWD.
    const fixes = remediations(hostile, (facts) =>
      editNode(facts, 'node-1', () => loadProbeFacts('iproute2-6.1.0/rp-filter-multi-nic')),
    );
    for (const fix of fixes) assert.doesNotMatch(fix, /touch/, fix);
    const facts = editNode(buildClusterFacts(hostile), 'node-1', () =>
      loadProbeFacts('iproute2-6.1.0/rp-filter-multi-nic'),
    );
    const drop = kernelCheck.evaluate(facts).find((f) => f.code === 'kernel/forward-drop')!;
    assert.equal(drop.remediation, undefined);
    const report = buildReport(facts, ALL_CHECKS);
    assert.ok(report.findings.some((f) => f.code === 'config/net-conf-invalid'));
  });
});
