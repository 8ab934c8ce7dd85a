// The probe's `pod-netns` section: `ip -n NS -j addr show` for each named network namespace that has an
// id in the node's namespace (containerd and CRI-O name pod namespaces under /run/netns; the id exists
// because a veth on the node has its peer there). Each namespace's output sits between GET/GOT lines.
import type { PodInterface } from '../node-facts.ts';
import type { Section } from '../sections.ts';
import { detach } from '../sections.ts';
import { isObject, jsonArray, num, str } from './common.ts';

/** The veth-backed interfaces of one namespace's `ip -j addr show` (loopback and others have no peer). */
export const parsePodNetnsPart = (netns: string, part: Section): PodInterface[] | undefined => {
  if (!part.complete || part.exitCode !== 0) return undefined;
  const items = jsonArray(part.body);
  if (items === undefined) return undefined;
  const result: PodInterface[] = [];
  for (const item of items) {
    const peerIndex = num(item, 'link_index');
    const index = num(item, 'ifindex');
    if (peerIndex === null || index === null) continue;
    const infos = Array.isArray(item.addr_info) ? item.addr_info.filter(isObject) : [];
    const addresses = infos
      .filter(
        (a) => str(a, 'scope') !== 'link' && (str(a, 'family') === 'inet' || str(a, 'family') === 'inet6'),
      )
      .sort((a, b) => (str(a, 'family') === 'inet' ? 0 : 1) - (str(b, 'family') === 'inet' ? 0 : 1))
      .map((a) => str(a, 'local'))
      .filter((a): a is string => a !== null);
    result.push({
      netns: detach(netns),
      name: str(item, 'ifname') ?? '',
      index,
      peerIndex,
      mtu: num(item, 'mtu'),
      addresses,
    });
  }
  return result;
};
