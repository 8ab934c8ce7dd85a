// `flannelctl status [--topology FILE]`: one row per node, like `kubectl get nodes` with flannel's
// columns; JSON/YAML give a StatusReport with the same rows. --topology writes the network's picture
// (Mermaid in Markdown, or Graphviz DOT).
import { plainTable } from '../render/plain-table.ts';
import type { NodeAccessOptions } from '../commands/node-access-flags.ts';
import type { StatusFlags } from '../commands/status.ts';
import { ResultExit } from '../errors.ts';
import type { GlobalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import { printJson } from '../report/print-json.ts';
import { printable } from '../report/printable.ts';
import { printYaml } from '../report/print-yaml.ts';
import { buildReport, exitCodeFor } from '../report/report.ts';
import { renderDot, renderMermaid, type TopologyFormat } from '../render/topology.ts';
import { gatherCluster } from './gather-cluster.ts';
import { buildTopology, type Topology } from './network-topology.ts';
import { nodeStatuses, type NodeStatus } from './node-status.ts';
import { writeOutputFile } from '../files.ts';

const dash = (v: string | null): string => v ?? '<none>';

const podText = (s: NodeStatus): string =>
  s.flannelPod
    ? s.flannelPod.ready
      ? 'Ready'
      : `NotReady${s.flannelPod.phase ? ` (${s.flannelPod.phase})` : ''}`
    : '<none>';

/** kubectl's look: no borders, two spaces between columns. */
export const statusTable = (rows: readonly NodeStatus[]): string => {
  const table = plainTable([
    'NAME',
    'POD-CIDR',
    'PUBLIC-IP',
    'BACKEND',
    'PEER-ROUTES',
    'FLANNEL',
    'RESTARTS',
    'NODE-ACCESS',
  ]);
  for (const s of rows) {
    // Annotations and pod states come from the API: printable, like kubectl's table printer.
    const row = [
      s.name,
      dash(s.podCIDR),
      dash(s.publicIp),
      dash(s.backend),
      s.peerRoutes === null ? '?' : `${s.peerRoutes}/${s.peers}`,
      podText(s),
      s.flannelPod ? String(s.flannelPod.restarts) : '-',
      s.reachability === 'unreachable' ? `unreachable (${s.issue ?? 'no facts'})` : s.reachability,
    ];
    table.push(row.map(printable));
  }
  return `${table
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')}\n`;
};

const topologyDocument = (topology: Topology, format: TopologyFormat): string => {
  if (format === 'dot') return renderDot(topology);
  const nodes = topology.segments.reduce((n, s) => n + s.nodes.length, 0);
  return [
    '# Flannel network topology',
    '',
    `${nodes} node(s) in ${topology.segments.length} L2 segment(s), written by \`flannelctl status --topology\`.`,
    'Edges: `direct` = a route straight to the peer (L2), `via flannel.N` = VXLAN, `via <ip>` = through a',
    `gateway (host-gw cannot use such a pair)${topology.level === 'segment' ? '; one box per L2 segment, edges count node pairs' : ''}.`,
    '',
    renderMermaid(topology),
  ].join('\n');
};

export const runStatus = async (
  flags: StatusFlags,
  format: TopologyFormat | undefined,
  globals: GlobalOptions,
  access: NodeAccessOptions,
  io: Io,
): Promise<void> => {
  const gathered = await gatherCluster({ globals, access, io });
  await gathered.exec.close();
  const rows = nodeStatuses(gathered.facts);
  if (flags.topology && format) {
    writeOutputFile(flags.topology, topologyDocument(buildTopology(gathered.facts), format), '--topology');
    io.stderr.write(`Topology written to ${flags.topology}\n`);
  }
  const report = { ...buildReport(gathered.facts, [], { kind: 'StatusReport' }), nodeStatus: rows };
  if (globals.output === 'json') io.stdout.write(printJson(report));
  else if (globals.output === 'yaml') io.stdout.write(printYaml(report));
  else io.stdout.write(statusTable(rows));
  const code = exitCodeFor(report);
  if (code !== 0) throw new ResultExit(code);
};
