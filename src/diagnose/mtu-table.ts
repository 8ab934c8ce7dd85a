// The pair table `mtu-probe` prints before its report: one row per sender → peer with the largest
// don't-fragment packet that crossed to the peer's node address and to its pod network, against the
// size that should. Big clusters list only the pairs that fall short.
import Table from 'cli-table3';
import { byName, type PathMtuResult } from '../facts/cluster-facts.ts';

const BORDERLESS = Object.fromEntries(
  [
    'top',
    'top-mid',
    'top-left',
    'top-right',
    'bottom',
    'bottom-mid',
    'bottom-left',
    'bottom-right',
    'left',
    'left-mid',
    'mid',
    'mid-mid',
    'right',
    'right-mid',
  ]
    .map((k) => [k, ''])
    .concat([['middle', '  ']]),
);

/** Above this many pairs only the short ones are listed. */
const MAX_ROWS = 40;

const cell = (r: PathMtuResult | undefined): string => {
  if (!r) return '-';
  if (r.largestPassed === null) return `none/${r.expected} ✗`;
  return `${r.largestPassed}/${r.expected}${r.largestPassed < r.expected ? ' ✗' : ''}`;
};

const short = (r: PathMtuResult | undefined): boolean =>
  r !== undefined && (r.largestPassed === null || r.largestPassed < r.expected);

export const formatPathTable = (results: readonly PathMtuResult[], description: string): string => {
  const pairs = new Map<string, { node: string; peer: string; byTarget: Map<string, PathMtuResult> }>();
  for (const r of results) {
    const key = `${r.node}\u0000${r.peer}`;
    const pair = pairs.get(key) ?? { node: r.node, peer: r.peer, byTarget: new Map() };
    pair.byTarget.set(r.target, r);
    pairs.set(key, pair);
  }
  const rows = [...pairs.values()].sort((a, b) => byName(a.node, b.node) || byName(a.peer, b.peer));
  const bad = rows.filter((p) => short(p.byTarget.get('node')) || short(p.byTarget.get('pod')));
  const shown = rows.length > MAX_ROWS ? bad : rows;
  const lines = [
    `Path MTU: largest don't-fragment packet that crossed / expected, in bytes (${description})`,
  ];
  if (shown.length > 0) {
    // kubectl-style columns: no borders, two spaces between columns.
    const table = new Table({
      head: ['FROM', 'TO', 'NODE', 'POD'],
      chars: BORDERLESS,
      style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    });
    for (const p of shown)
      table.push([p.node, p.peer, cell(p.byTarget.get('node')), cell(p.byTarget.get('pod'))]);
    lines.push(
      ...table
        .toString()
        .split('\n')
        .map((l) => l.trimEnd()),
    );
  }
  const fine = rows.length - bad.length;
  if (shown.length < rows.length)
    lines.push(`${fine} of ${rows.length} pairs carry the expected size on every path`);
  else if (rows.length === 0) lines.push('no path was measured');
  return `${lines.join('\n')}\n`;
};
