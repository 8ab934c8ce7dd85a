// The network picture behind `status --topology`: the model from cluster facts, and its Mermaid and
// DOT renderings (escaping, per-pair edges, one box per segment for large clusters).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTopology, type Topology } from '../../src/diagnose/network-topology.ts';
import { renderDot, renderMermaid, topologyFormatFor } from '../../src/render/topology.ts';
import { healthyCluster, host, type Host } from '../helpers/cluster-facts-fixtures.ts';

const hosts = (count: number): Host[] => Array.from({ length: count }, (_, i) => host(i + 1));

const tricky: Topology = {
  level: 'node',
  segments: [
    {
      index: 1,
      nodes: [
        { name: 'a"b<c>#d', publicIp: '10.0.0.1', podCIDR: '10.244.1.0/24', reachable: true },
        { name: 'back\\slash', publicIp: null, podCIDR: null, reachable: false },
      ],
    },
  ],
  edges: [
    {
      from: 'a"b<c>#d',
      to: 'back\\slash',
      path: { kind: 'direct', text: 'direct' },
      back: { kind: 'unknown', text: 'unknown' },
    },
  ],
  segmentEdges: [],
};

describe('topology model', () => {
  it('a host-gw cluster on one segment: every pair direct, one edge per pair', () => {
    const t = buildTopology(healthyCluster('host-gw'));
    assert.equal(t.level, 'node');
    assert.deepEqual(
      t.segments.map((s) => s.nodes.map((n) => `${n.name} ${n.podCIDR}`)),
      [['node-1 10.244.1.0/24', 'node-2 10.244.2.0/24', 'node-3 10.244.3.0/24']],
    );
    assert.deepEqual(
      t.edges.map((e) => `${e.from}-${e.to} ${e.path.text}`),
      ['node-1-node-2 direct', 'node-1-node-3 direct', 'node-2-node-3 direct'],
    );
  });

  it('vxlan pairs are drawn via flannel.1', () => {
    const t = buildTopology(healthyCluster('vxlan'));
    assert.ok(t.edges.every((e) => e.path.text === 'via flannel.1' && !e.back));
  });

  it('above 30 nodes: segment boxes and counted pairs instead of every pair', () => {
    const t = buildTopology(healthyCluster('host-gw', { hosts: hosts(31) }));
    assert.equal(t.level, 'segment');
    assert.equal(t.edges.length, 0);
    assert.deepEqual(t.segmentEdges, [
      { from: 1, to: 1, paths: [{ path: { kind: 'direct', text: 'direct' }, pairs: (31 * 30) / 2 }] },
    ]);
    const mermaid = renderMermaid(t);
    assert.match(
      mermaid,
      /s1\["L2 segment 1 \(31 nodes\)<br\/>node-1 … node-31<br\/>pods 10\.244\.1\.0\/24 … 10\.244\.31\.0\/24"\]/,
    );
    assert.ok(mermaid.split('\n').length < 10, mermaid);
  });
});

describe('topology renderers', () => {
  it('Mermaid: generated ids, entity-escaped labels, dashed edges for unknown paths, fenced for Markdown', () => {
    const text = renderMermaid(tricky);
    assert.ok(text.startsWith('```mermaid\n'));
    assert.ok(text.endsWith('\n```\n'));
    assert.match(text, /n1\["a#quot;b#lt;c#gt;#35;d<br\/>10\.0\.0\.1<br\/>pods 10\.244\.1\.0\/24"\]/);
    assert.match(text, /n2\["back\\slash<br\/>no public IP<br\/>pods unknown<br\/>unreachable"\]/);
    assert.match(
      text,
      /n1 -\.-\|"a#quot;b#lt;c#gt;#35;d→back\\slash: direct; back\\slash→a#quot;b#lt;c#gt;#35;d: unknown"\| n2/,
    );
    assert.doesNotMatch(text.replace(/"[^"\n]*"/g, ''), /a"b/, 'no raw quote outside a label');
  });

  it('Mermaid: a hostile label cannot end the statement, the label or the Markdown fence', () => {
    // Names and addresses come from the API; a pod CIDR or gateway text could carry anything.
    const hostile = 'x\n```\n# injected\n[y]|z`w\x1b]52;c;Zm9v\x07';
    const t: Topology = {
      ...tricky,
      segments: [
        { index: 1, nodes: [{ name: 'n', publicIp: hostile, podCIDR: '10.244.1.0/24', reachable: true }] },
      ],
      edges: [],
    };
    const text = renderMermaid(t);
    const lines = text.split('\n');
    assert.equal(lines.filter((l) => l.startsWith('```')).length, 2, 'only the fence itself');
    assert.equal(lines.length, 8, text); // 7 lines and the final newline
    assert.match(
      text,
      /n1\["n<br\/>x #96;#96;#96; #35; injected #91;y#93;#124;z#96;w\^#91;#93;52;c;Zm9v\^G<br\/>pods 10\.244\.1\.0\/24"\]/,
    );
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f]/, 'no control character but newlines');
    const dot = renderDot(t);
    assert.match(dot, /n1 \[label="n\\nx ``` # injected \[y\]\|z`w\^\[\]52;c;Zm9v\^G\\npods/);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(dot, /[\u0000-\u0009\u000b-\u001f]/);
  });

  it('DOT: quotes and backslashes escaped, clusters per segment, dashed unreachable nodes', () => {
    const text = renderDot(tricky);
    assert.match(text, /^graph flannel \{\n/);
    assert.match(text, /subgraph cluster_s1 \{\n {4}label="L2 segment 1 \(2 nodes\)";/);
    assert.match(text, /n1 \[label="a\\"b<c>#d\\n10\.0\.0\.1\\npods 10\.244\.1\.0\/24"\];/);
    assert.match(
      text,
      /n2 \[label="back\\\\slash\\nno public IP\\npods unknown\\nunreachable", style=dashed\];/,
    );
    assert.match(text, /n1 -- n2 \[label=".*", style=dashed\];/);
    assert.ok(text.endsWith('}\n'));
  });

  it('DOT at segment level: one node per segment and labelled edges between segments', () => {
    const t: Topology = {
      level: 'segment',
      segments: [
        { index: 1, nodes: [{ name: 'a', publicIp: null, podCIDR: null, reachable: true }] },
        { index: 2, nodes: [{ name: 'b', publicIp: null, podCIDR: null, reachable: true }] },
      ],
      edges: [],
      segmentEdges: [
        { from: 1, to: 2, paths: [{ path: { kind: 'gateway', text: 'via 192.168.77.1' }, pairs: 1 }] },
      ],
    };
    assert.match(renderDot(t), /s1 -- s2 \[label="1 pair via 192\.168\.77\.1"\];/);
    assert.match(renderMermaid(t), /s1 ---\|"1 pair via 192\.168\.77\.1"\| s2/);
  });

  it('picks the format from the file name', () => {
    assert.equal(topologyFormatFor('net.md'), 'mermaid');
    assert.equal(topologyFormatFor('out/net.DOT'), 'dot');
    assert.equal(topologyFormatFor('net.gv'), 'dot');
    assert.equal(topologyFormatFor('net.png'), undefined);
    assert.equal(topologyFormatFor('md'), undefined);
  });
});
