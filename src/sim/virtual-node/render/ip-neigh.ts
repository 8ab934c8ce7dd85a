// `ip [-j] neigh show` and `bridge [-j] fdb show dev X`.
import type { VirtualNode } from '../model.ts';
import { jsonLines } from './json.ts';

export const renderNeighJson = (node: VirtualNode): string =>
  jsonLines(
    node.neighbours.map((n) => ({
      dst: n.dst,
      dev: n.dev,
      lladdr: n.lladdr ?? undefined,
      state: [n.state],
    })),
  );

export const renderNeighText = (node: VirtualNode): string =>
  node.neighbours
    .map((n) => `${n.dst} dev ${n.dev} ${n.lladdr ? `lladdr ${n.lladdr} ` : ''}${n.state} \n`)
    .join('');

export const renderFdbJson = (node: VirtualNode, dev: string): string =>
  jsonLines(
    node.fdb
      .filter((f) => f.dev === dev)
      .map((f) => ({ mac: f.mac, dst: f.dst ?? undefined, flags: ['self'], state: f.state })),
  );

export const renderFdbText = (node: VirtualNode, dev: string): string =>
  node.fdb
    .filter((f) => f.dev === dev)
    .map((f) => `${f.mac} ${f.dst ? `dst ${f.dst} ` : ''}self ${f.state}\n`)
    .join('');
