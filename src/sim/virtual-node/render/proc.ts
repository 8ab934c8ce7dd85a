// Text the probe reads from files and small tools: the sysctl grep, /proc/net/snmp, iptables.
import type { VirtualNode } from '../model.ts';

export interface Output {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** Paths matched by `net/ipv4/conf/*\/rp_filter` in /proc/sys, in glob (byte) order. */
export const rpFilterPaths = (node: VirtualNode): string[] =>
  [...node.sysctls.keys()].filter((k) => /^net\/ipv4\/conf\/[^/]+\/rp_filter$/.test(k)).sort();

/**
 * The probe's `x` helper: `PATH!missing` for absent files, then `grep -H '' FILES...`, whose
 * "No such file" complaints land in the stream where grep meets them (stderr is merged).
 */
export const renderSysctlGrep = (node: VirtualNode, names: readonly string[]): Output => {
  const missing = names.filter((n) => !node.sysctls.has(n));
  const lines = missing.map((n) => `${n}!missing`);
  for (const path of [...names, ...rpFilterPaths(node)]) {
    const value = node.sysctls.get(path);
    lines.push(value === undefined ? `grep: ${path}: No such file or directory` : `${path}:${value}`);
  }
  return { stdout: `${lines.join('\n')}\n`, stderr: '', code: missing.length > 0 ? 2 : 0 };
};

export const renderSnmp = (node: VirtualNode): string =>
  [...node.snmp]
    .map(
      ([table, fields]) =>
        `${table}: ${[...fields.keys()].join(' ')}\n${table}: ${[...fields.values()].join(' ')}\n`,
    )
    .join('');

export const renderIptablesForward = (node: VirtualNode): string =>
  [`-P FORWARD ${node.forwardPolicy}`, ...node.forwardRules].map((l) => `${l}\n`).join('');
