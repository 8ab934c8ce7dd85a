// Draws a Topology as Mermaid (a ```mermaid block in Markdown, which GitHub renders) or Graphviz DOT.
// Node and subgraph ids are generated (n1, s1), never taken from names; every label is escaped for
// its format. Large clusters get one box per L2 segment and edges counted per path.
import type {
  PathLabel,
  Topology,
  TopologyEdge,
  TopologyNode,
  TopologySegment,
} from '../diagnose/network-topology.ts';
import { printable } from '../report/printable.ts';

export type TopologyFormat = 'mermaid' | 'dot';

/** .md → Mermaid in Markdown, .dot/.gv → DOT; undefined for anything else. */
export const topologyFormatFor = (file: string): TopologyFormat | undefined => {
  const ext = /\.([A-Za-z]+)$/.exec(file)?.[1]?.toLowerCase();
  if (ext === 'md' || ext === 'markdown') return 'mermaid';
  if (ext === 'dot' || ext === 'gv') return 'dot';
  return undefined;
};

// Mermaid: inside "…" labels, quotes and angle brackets must be entity codes (#quot; #lt; #gt;),
// and # itself starts one. <br/> is the line break. A newline would end the statement, a backtick
// line closes the Markdown fence, brackets and | end a node or edge label: all become spaces or
// entity codes (decimal, as Mermaid reads them). Other control characters are shown printable.
const MERMAID_ENTITY: Readonly<Record<string, string>> = {
  '#': '35',
  '"': 'quot',
  '<': 'lt',
  '>': 'gt',
  '&': 'amp',
  '`': '96',
  '[': '91',
  ']': '93',
  '|': '124',
};
const mermaidText = (text: string): string =>
  printable(text.replace(/[\r\n]+/g, ' ')).replace(/[#"<>&`[\]|]/g, (c) => `#${MERMAID_ENTITY[c]};`);

// DOT: a quoted string escapes " and \; \n is the line break.
const dotText = (text: string): string =>
  printable(text.replace(/[\r\n]+/g, ' ')).replace(/[\\"]/g, (c) => `\\${c}`);

const nodeLines = (n: TopologyNode): string[] => [
  n.name,
  n.publicIp ?? 'no public IP',
  `pods ${n.podCIDR ?? 'unknown'}`,
  ...(n.reachable ? [] : ['unreachable']),
];

const segmentTitle = (s: TopologySegment): string =>
  `L2 segment ${s.index} (${s.nodes.length} node${s.nodes.length === 1 ? '' : 's'})`;

const segmentLines = (s: TopologySegment): string[] => {
  const names = s.nodes.map((n) => n.name);
  const cidrs = s.nodes.map((n) => n.podCIDR).filter((c): c is string => c !== null);
  const few = (items: string[]): string =>
    items.length <= 3 ? items.join(', ') : `${items[0]} … ${items[items.length - 1]}`;
  return [segmentTitle(s), few(names), ...(cidrs.length ? [`pods ${few(cidrs)}`] : [])];
};

const edgeText = (e: TopologyEdge): string =>
  e.back ? `${e.from}→${e.to}: ${e.path.text}; ${e.to}→${e.from}: ${e.back.text}` : e.path.text;

const countText = (paths: readonly { path: PathLabel; pairs: number }[]): string =>
  paths.map((p) => `${p.pairs} pair${p.pairs === 1 ? '' : 's'} ${p.path.text}`).join(', ');

const DASHED: ReadonlySet<string> = new Set(['unreachable', 'unknown']);

export const renderMermaid = (t: Topology, title = 'flannel network'): string => {
  const out = ['```mermaid', `%% ${mermaidText(title)}`, 'flowchart LR'];
  const label = (lines: string[]): string => `"${lines.map(mermaidText).join('<br/>')}"`;
  const link = (dashed: boolean, text: string): string => (dashed ? `-.-|${text}|` : `---|${text}|`);
  if (t.level === 'node') {
    const ids = new Map<string, string>();
    for (const s of t.segments) {
      out.push(`  subgraph s${s.index}[${label([segmentTitle(s)])}]`);
      for (const n of s.nodes) {
        const id = `n${ids.size + 1}`;
        ids.set(n.name, id);
        out.push(`    ${id}[${label(nodeLines(n))}]`);
      }
      out.push('  end');
    }
    for (const e of t.edges) {
      const dashed = DASHED.has(e.path.kind) || (e.back !== undefined && DASHED.has(e.back.kind));
      out.push(`  ${ids.get(e.from)} ${link(dashed, label([edgeText(e)]))} ${ids.get(e.to)}`);
    }
  } else {
    for (const s of t.segments) out.push(`  s${s.index}[${label(segmentLines(s))}]`);
    for (const e of t.segmentEdges) {
      const text = label([`${e.from === e.to ? 'within: ' : ''}${countText(e.paths)}`]);
      const dashed = e.paths.every((p) => DASHED.has(p.path.kind));
      // A self-loop for pairs inside one segment would clutter the picture; they are in its box title.
      if (e.from !== e.to) out.push(`  s${e.from} ${link(dashed, text)} s${e.to}`);
      else out.push(`  %% segment ${e.from} ${mermaidText(countText(e.paths))}`);
    }
  }
  out.push('```');
  return `${out.join('\n')}\n`;
};

export const renderDot = (t: Topology, title = 'flannel network'): string => {
  const out = [
    'graph flannel {',
    `  label="${dotText(title)}";`,
    '  rankdir=LR;',
    '  node [shape=box, fontname="monospace"];',
  ];
  const label = (lines: string[]): string => `"${lines.map(dotText).join('\\n')}"`;
  const style = (dashed: boolean): string => (dashed ? ', style=dashed' : '');
  if (t.level === 'node') {
    const ids = new Map<string, string>();
    for (const s of t.segments) {
      out.push(`  subgraph cluster_s${s.index} {`, `    label=${label([segmentTitle(s)])};`);
      for (const n of s.nodes) {
        const id = `n${ids.size + 1}`;
        ids.set(n.name, id);
        out.push(`    ${id} [label=${label(nodeLines(n))}${style(!n.reachable)}];`);
      }
      out.push('  }');
    }
    for (const e of t.edges) {
      const dashed = DASHED.has(e.path.kind) || (e.back !== undefined && DASHED.has(e.back.kind));
      out.push(`  ${ids.get(e.from)} -- ${ids.get(e.to)} [label=${label([edgeText(e)])}${style(dashed)}];`);
    }
  } else {
    for (const s of t.segments) out.push(`  s${s.index} [label=${label(segmentLines(s))}];`);
    for (const e of t.segmentEdges) {
      const text = label([countText(e.paths)]);
      const dashed = e.paths.every((p) => DASHED.has(p.path.kind));
      if (e.from !== e.to) out.push(`  s${e.from} -- s${e.to} [label=${text}${style(dashed)}];`);
      else out.push(`  s${e.from} [xlabel=${label([`within: ${countText(e.paths)}`])}];`);
    }
  }
  out.push('}');
  return `${out.join('\n')}\n`;
};
