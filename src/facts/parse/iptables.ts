// `iptables -V` and `iptables -S FORWARD`; and `nft list tables`.
import type { Iptables } from '../node-facts.ts';

export const parseIptables = (versionText: string | undefined, forwardText: string | undefined): Iptables => {
  const version = /^iptables\s+(v\S+(?:\s+\([^)]*\))?)/m.exec(versionText ?? '')?.[1] ?? null;
  const lines = (forwardText ?? '').split('\n').map((l) => l.trim());
  const policy = lines.map((l) => /^-P\s+FORWARD\s+(\S+)/.exec(l)?.[1]).find((p) => p !== undefined) ?? null;
  return { version, forwardPolicy: policy, forwardRules: lines.filter((l) => l.startsWith('-A ')) };
};

export const parseNftTables = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => /^table\s+(\S+\s+\S+)/.exec(l.trim())?.[1])
    .filter((t): t is string => t !== undefined);
