// /run/flannel/subnet.env as written by flanneld's WriteSubnetFile (keys in flannel-facts §5).
import type { SubnetEnv } from '../node-facts.ts';
import { toNumber } from './common.ts';

export const parseSubnetEnv = (text: string): SubnetEnv => {
  const raw: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) raw[m[1] as string] = (m[2] as string).trim().replace(/^"(.*)"$/, '$1');
  }
  const ipmasq = raw.FLANNEL_IPMASQ;
  return {
    network: raw.FLANNEL_NETWORK ?? null,
    subnet: raw.FLANNEL_SUBNET ?? null,
    ipv6Network: raw.FLANNEL_IPV6_NETWORK ?? null,
    ipv6Subnet: raw.FLANNEL_IPV6_SUBNET ?? null,
    mtu: toNumber(raw.FLANNEL_MTU),
    ipMasq: ipmasq === 'true' ? true : ipmasq === 'false' ? false : null,
    raw,
  };
};
