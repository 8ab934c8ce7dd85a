// `ip -V`: `ip utility, iproute2-6.1.0, libbpf 1.1.2`, old snapshots `ip utility, iproute2-ss180129`,
// or BusyBox, whose `ip` knows no -V and prints its banner and usage.
import type { IpVersion } from '../node-facts.ts';

export const parseIpVersion = (text: string): IpVersion | null => {
  const raw = text.trim().split('\n')[0]?.trim() ?? '';
  const busybox = /BusyBox v(\d+(?:\.\d+)+)/.exec(text);
  if (busybox) return { implementation: 'busybox', version: busybox[1] ?? null, snapshot: null, raw };
  const snapshot = /iproute2-(ss\d{6})/.exec(raw);
  if (snapshot) return { implementation: 'iproute2', version: null, snapshot: snapshot[1] ?? null, raw };
  const version = /iproute2-v?(\d+\.\d+(?:\.\d+)?)/.exec(raw);
  if (version) return { implementation: 'iproute2', version: version[1] ?? null, snapshot: null, raw };
  return raw === '' ? null : { implementation: 'unknown', version: null, snapshot: null, raw };
};
