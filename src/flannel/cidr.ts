// Tiny CIDR helpers on top of ipaddr.js, strict like Go's net.ParseCIDR/net.ParseIP
// (flanneld parses net-conf.json with them), with bigint math so IPv4 and IPv6 share code.
import ipaddr from 'ipaddr.js';

export type IpFamily = 'ipv4' | 'ipv6';

export interface IpAddress {
  readonly family: IpFamily;
  /** The address as a number, so ranges and alignment are plain arithmetic. */
  readonly value: bigint;
  /** Canonical text: "10.244.1.0", "fd00::1". */
  readonly text: string;
}

export interface Cidr {
  readonly family: IpFamily;
  readonly prefix: number;
  /** 32 or 128. */
  readonly bits: number;
  /** The address as written (may have host bits set). */
  readonly ip: IpAddress;
  /** The network address: host bits cleared. */
  readonly base: bigint;
  /** Canonical text with host bits cleared, e.g. "10.244.0.0/16" for "10.244.1.0/16". */
  readonly text: string;
  /** True when the address as written is not the network address; Go masks these silently. */
  readonly hostBitsSet: boolean;
}

// Go's net.ParseIP accepts only dotted-quad decimal IPv4 without leading zeros; ipaddr.js
// also accepts "10", hex and octal forms, which flanneld would reject.
const IPV4_OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_RE = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);

const bitsOf = (family: IpFamily): number => (family === 'ipv4' ? 32 : 128);

/** Parses an IPv4 or IPv6 address; undefined when it is not one. */
export const parseIp = (text: string): IpAddress | undefined => {
  // IPv4 without ipaddr.js: checks parse ~1M route and peer addresses at 1,000 nodes. The grammar
  // allows no leading zeros, so the text is already canonical.
  if (IPV4_RE.test(text)) {
    const [a = 0, b = 0, c = 0, d = 0] = text.split('.').map(Number);
    return { family: 'ipv4', value: BigInt(a * 16777216 + b * 65536 + c * 256 + d), text };
  }
  if (!text.includes(':') || text.includes('%') || !ipaddr.IPv6.isValid(text)) return undefined;
  const bytes = ipaddr.parse(text).toByteArray();
  const value = bytes.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
  return { family: 'ipv6', value, text: formatIp(value, 'ipv6') };
};

/** Formats a numeric address in the canonical (shortest) notation. */
export const formatIp = (value: bigint, family: IpFamily): string => {
  if (family === 'ipv4') {
    const n = Number(value & 0xffffffffn);
    return `${Math.floor(n / 16777216)}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const count = bitsOf(family) / 8;
  const bytes: number[] = [];
  for (let i = count - 1; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
};

/** Parses "a.b.c.d/n" or "x::/n"; undefined when the text is not a CIDR. */
export const tryParseCidr = (text: string): Cidr | undefined => {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const bits = bitsOf(ip.family);
  if (prefix > bits) return undefined;
  const base = ip.value & prefixMask(prefix, bits);
  return {
    family: ip.family,
    prefix,
    bits,
    ip,
    base,
    text: `${formatIp(base, ip.family)}/${prefix}`,
    hostBitsSet: base !== ip.value,
  };
};

/** Like tryParseCidr, but throws an Error naming the bad text. */
export const parseCidr = (text: string): Cidr => {
  const cidr = tryParseCidr(text);
  if (!cidr) throw new Error(`"${text}" is not a valid CIDR`);
  return cidr;
};

const prefixMask = (prefix: number, bits: number): bigint => {
  const all = (1n << BigInt(bits)) - 1n;
  return all ^ ((1n << BigInt(bits - prefix)) - 1n);
};

/** Number of addresses in a block of the given prefix length. */
export const blockSize = (prefix: number, bits: number): bigint => 1n << BigInt(bits - prefix);

/** Last address of the block. */
export const lastAddress = (cidr: Cidr): bigint => cidr.base + blockSize(cidr.prefix, cidr.bits) - 1n;

/** True when `inner` (a CIDR or a single address) lies entirely inside `outer`. */
export const contains = (outer: Cidr, inner: Cidr | IpAddress): boolean => {
  if (outer.family !== inner.family) return false;
  if ('prefix' in inner) {
    return (
      inner.prefix >= outer.prefix && inner.base >= outer.base && lastAddress(inner) <= lastAddress(outer)
    );
  }
  return inner.value >= outer.base && inner.value <= lastAddress(outer);
};

/** True when the two blocks share at least one address. */
export const overlaps = (a: Cidr, b: Cidr): boolean =>
  a.family === b.family && a.base <= lastAddress(b) && b.base <= lastAddress(a);

/** True when the address starts a block of `prefix` bits (flanneld's "SubnetLen boundary"). */
export const isAligned = (address: IpAddress, prefix: number): boolean =>
  address.value % blockSize(prefix, bitsOf(address.family)) === 0n;

/** Text of the block of `prefix` bits starting at `value`. */
export const cidrText = (value: bigint, prefix: number, family: IpFamily): string =>
  `${formatIp(value, family)}/${prefix}`;

/** The smallest block containing all of `cidrs` (same family), e.g. to suggest a Network. */
export const commonSupernet = (cidrs: readonly Cidr[]): Cidr | undefined => {
  const first = cidrs[0];
  if (!first || cidrs.some((c) => c.family !== first.family)) return undefined;
  let prefix = Math.min(...cidrs.map((c) => c.prefix));
  const sameBlock = (p: number): boolean => {
    const mask = prefixMask(p, first.bits);
    return cidrs.every((c) => (c.base & mask) === (first.base & mask));
  };
  while (prefix > 0 && !sameBlock(prefix)) prefix--;
  return tryParseCidr(cidrText(first.base & prefixMask(prefix, first.bits), prefix, first.family));
};
