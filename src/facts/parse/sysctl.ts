// The probe's sysctl section: `path:value` lines from `grep -H` under /proc/sys, `path!missing`
// for files that do not exist (a module such as br_netfilter is not loaded - a fact, not an error),
// and `path!readonly` for files root cannot write (global keys seen from a container's netns).
import type { RpFilter, SysctlNumber, SysctlString, Sysctls } from '../node-facts.ts';
import { toNumber } from './common.ts';

const RP_FILTER = /^net\/ipv4\/conf\/([^/]+)\/rp_filter$/;

/** Dotted sysctl name; rp_filter keys keep the interface verbatim (`eth0.100` must stay one segment). */
const dotted = (path: string): string => {
  const rp = RP_FILTER.exec(path);
  return rp ? `net.ipv4.conf.${rp[1]}.rp_filter` : path.replaceAll('/', '.');
};

/** Raw values by dotted name; null = the file is missing. Unreadable files are left out. */
export const parseSysctlLines = (text: string): Record<string, string | null> => {
  const raw: Record<string, string | null> = {};
  for (const line of text.split('\n')) {
    const missing = /^(net\/[^\s:!]+)!missing$/.exec(line);
    if (missing) {
      raw[dotted(missing[1] as string)] = null;
      continue;
    }
    const value = /^(net\/[^\s:!]+):(.*)$/.exec(line);
    if (value) raw[dotted(value[1] as string)] = (value[2] as string).trim();
  }
  return raw;
};

const numberOf = (raw: Record<string, string | null>, key: string): SysctlNumber => {
  if (!(key in raw)) return null;
  const value = raw[key];
  return value === null ? 'missing' : toNumber(value);
};

const stringOf = (raw: Record<string, string | null>, key: string): SysctlString => {
  if (!(key in raw)) return null;
  const value = raw[key];
  return value === null ? 'missing' : value === '' ? null : (value ?? null);
};

/** Dotted names of the `path!readonly` lines. */
const readOnlyKeys = (text: string): string[] =>
  [...text.matchAll(/^(net\/[^\s:!]+)!readonly$/gm)].map((m) => dotted(m[1] as string));

export const parseSysctls = (text: string): Sysctls => {
  const raw = parseSysctlLines(text);
  const readOnly = readOnlyKeys(text);
  const interfaces: Record<string, number> = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = /^net\.ipv4\.conf\.(.+)\.rp_filter$/.exec(key)?.[1];
    const n = toNumber(value);
    if (name !== undefined && name !== 'all' && name !== 'default' && n !== null) interfaces[name] = n;
  }
  const rpFilter: RpFilter = {
    all: numberOf(raw, 'net.ipv4.conf.all.rp_filter'),
    default: numberOf(raw, 'net.ipv4.conf.default.rp_filter'),
    interfaces,
  };
  const available = stringOf(raw, 'net.ipv4.tcp_available_congestion_control');
  return {
    rpFilter,
    ipForward: numberOf(raw, 'net.ipv4.ip_forward'),
    bridgeNfCallIptables: numberOf(raw, 'net.bridge.bridge-nf-call-iptables'),
    conntrackCount: numberOf(raw, 'net.netfilter.nf_conntrack_count'),
    conntrackMax: numberOf(raw, 'net.netfilter.nf_conntrack_max'),
    rmemMax: numberOf(raw, 'net.core.rmem_max'),
    wmemMax: numberOf(raw, 'net.core.wmem_max'),
    rmemDefault: numberOf(raw, 'net.core.rmem_default'),
    wmemDefault: numberOf(raw, 'net.core.wmem_default'),
    tcpCongestionControl: stringOf(raw, 'net.ipv4.tcp_congestion_control'),
    tcpAvailableCongestionControl:
      available === null || available === 'missing'
        ? available
        : available.split(/\s+/).filter((s) => s !== ''),
    tcpFastopen: numberOf(raw, 'net.ipv4.tcp_fastopen'),
    routeMaxSize: numberOf(raw, 'net.ipv4.route.max_size'),
    raw,
    ...(readOnly.length > 0 ? { readOnly } : {}),
  };
};

/**
 * The rp_filter the kernel applies on an interface: "The max value from conf/{all,interface}/rp_filter
 * is used when doing source validation on the {interface}" (ip-sysctl.txt). null when unknown.
 */
export const effectiveRpFilter = (rp: RpFilter, ifname: string): number | null => {
  const own = rp.interfaces[ifname];
  if (typeof rp.all !== 'number' || own === undefined) return null;
  return Math.max(rp.all, own);
};
