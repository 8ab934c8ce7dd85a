// Address arithmetic flanneld does on a lease subnet: its network address (the vtep / ARP target),
// its .1 (FLANNEL_SUBNET), and canonical prefixes for comparing routes.
import { formatIp, parseCidr, tryParseCidr } from '../../flannel/cidr.ts';

/** "10.0.0.1" -> "10.0.0.1/32"; "10.244.1.0/24" stays; host bits are kept as the kernel shows them. */
export const canonicalCidr = (text: string): string => {
  if (text.includes('/')) return tryParseCidr(text)?.text ?? text;
  return text.includes(':') ? `${text}/128` : `${text}/32`;
};

/** The subnet's own address: "10.244.2.0/24" -> "10.244.2.0". */
export const subnetIp = (subnet: string): string => {
  const c = parseCidr(subnet);
  return formatIp(c.base, c.family);
};

/** FLANNEL_SUBNET: the subnet with its IP + 1, "10.244.2.0/24" -> "10.244.2.1/24". */
export const subnetGateway = (subnet: string): string => {
  const c = parseCidr(subnet);
  return `${formatIp(c.base + 1n, c.family)}/${c.prefix}`;
};
