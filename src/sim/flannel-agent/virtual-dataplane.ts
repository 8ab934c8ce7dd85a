// The Dataplane of an in-process virtual node: the same operations as on a lab node, applied to the
// VirtualNode model, whose kernel-like answers (e.g. "Nexthop has invalid gateway") map to errnos.
import { SUBNET_ENV_PATH } from '../../flannel/names.ts';
import type { VirtualNode } from '../virtual-node/model.ts';
import { canonicalCidr } from './addresses.ts';
import type {
  Dataplane,
  EnsuredVxlan,
  ExternalInterface,
  KernelResult,
  NlRoute,
  RouteGetResult,
  VxlanLinkInfo,
  VxlanSpec,
} from './dataplane.ts';
import { OK, errnoOf, vxlanLinksIncompat } from './dataplane.ts';

type ModelResult = { readonly ok: true } | { readonly ok: false; readonly message: string };

const answer = (r: ModelResult): KernelResult =>
  r.ok ? OK : { ok: false, errno: errnoOf(r.message), detail: r.message };

export class VirtualDataplane implements Dataplane {
  constructor(readonly node: VirtualNode) {}

  private index(dev: string | null | undefined): number {
    return (dev && this.node.link(dev)?.index) || 0;
  }

  externalInterface(address: string): Promise<ExternalInterface | undefined> {
    const a = this.node.addresses.find((x) => x.family === 'inet' && x.local === address);
    const link = a ? this.node.link(a.dev) : undefined;
    return Promise.resolve(link ? { name: link.name, index: link.index, mtu: link.mtu, address } : undefined);
  }

  vxlanLink(name: string): Promise<VxlanLinkInfo | undefined> {
    const link = this.node.link(name);
    if (!link) return Promise.resolve(undefined);
    const v = link.vxlan;
    return Promise.resolve({
      name: link.name,
      index: link.index,
      mac: link.mac,
      mtu: link.mtu,
      kind: link.kind,
      ...(v
        ? {
            vni: v.id,
            local: v.local,
            port: v.port,
            ...(this.index(v.dev) ? { vtepDevIndex: this.index(v.dev) } : {}),
          }
        : {}),
    });
  }

  async ensureVxlan(spec: VxlanSpec): Promise<EnsuredVxlan> {
    const existing = await this.vxlanLink(spec.name);
    let recreated: string | undefined;
    if (existing) {
      const incompat = vxlanLinksIncompat(spec, existing);
      if (incompat === '') return { ...existing, created: false };
      recreated = incompat;
      this.node.linkDel(spec.name);
    }
    this.node.addLink({
      name: spec.name,
      kind: 'vxlan',
      mtu: spec.mtu,
      up: false,
      ...(spec.mac ? { mac: spec.mac } : {}),
      vxlan: {
        id: spec.vni,
        local: spec.local,
        dev: spec.extIface.name,
        port: spec.port || 8472,
        learning: spec.learning,
      },
    });
    const created = (await this.vxlanLink(spec.name))!;
    return { ...created, created: true, ...(recreated ? { recreated } : {}) };
  }

  configureVxlan(name: string, cidr: string): Promise<void> {
    const v4 = this.node.addresses.filter((a) => a.dev === name && a.family === 'inet');
    if (v4.length > 1)
      return Promise.reject(
        new Error('link has incompatible addresses. Remove additional addresses and try again.'),
      );
    const current = v4[0] ? `${v4[0].local}/${v4[0].prefixLen}` : undefined;
    if (current && current !== cidr) this.node.addresses.splice(this.node.addresses.indexOf(v4[0]!), 1);
    if (current !== cidr) {
      const r = this.node.addrAdd(name, cidr);
      if (!r.ok)
        return Promise.reject(
          new Error(`${this.node.hostname}: ip addr add ${cidr} dev ${name}: ${r.message}`),
        );
    }
    this.node.link(name)!.up = true;
    return Promise.resolve();
  }

  routeList(): Promise<NlRoute[]> {
    return Promise.resolve(
      this.node.routes
        .filter((r) => r.family === 'inet' && r.type === 'unicast' && r.dst !== 'default')
        .map((r) => ({
          dst: r.dst,
          ...(r.gateway ? { gw: r.gateway } : {}),
          ...(r.dev ? { dev: r.dev } : {}),
          linkIndex: this.index(r.dev),
          ...(r.onlink ? { onlink: true } : {}),
          ...(r.prefsrc ? { src: r.prefsrc } : {}),
          table: 254,
        })),
    );
  }

  routeGet(ip: string): Promise<RouteGetResult> {
    const r = this.node.routeGet(ip);
    if ('ok' in r) {
      const failed = answer(r);
      return Promise.resolve(failed.ok ? { ok: true, routes: [] } : failed);
    }
    return Promise.resolve({
      ok: true,
      routes: [
        {
          dst: canonicalCidr(r.dst),
          ...(r.gateway ? { gw: r.gateway } : {}),
          dev: r.dev,
          linkIndex: this.index(r.dev),
        },
      ],
    });
  }

  routeAdd(route: NlRoute): Promise<KernelResult> {
    return Promise.resolve(answer(this.node.routeAdd(spec(route))));
  }

  routeReplace(route: NlRoute): Promise<KernelResult> {
    return Promise.resolve(answer(this.node.routeReplace(spec(route))));
  }

  routeDel(route: NlRoute): Promise<KernelResult> {
    return Promise.resolve(
      answer(
        this.node.routeDel({
          dst: route.dst,
          ...(route.gw ? { gateway: route.gw } : {}),
          ...(route.dev ? { dev: route.dev } : {}),
        }),
      ),
    );
  }

  neighReplace(dev: string, ip: string, mac: string): Promise<KernelResult> {
    return Promise.resolve(answer(this.node.neighReplace({ dst: ip, dev, lladdr: mac, state: 'PERMANENT' })));
  }

  neighDel(dev: string, ip: string): Promise<KernelResult> {
    return Promise.resolve(answer(this.node.neighDel(ip, dev)));
  }

  fdbReplace(dev: string, mac: string, dst: string): Promise<KernelResult> {
    // NLM_F_REPLACE on a vxlan FDB: the MAC keeps one entry, pointing at the new dst.
    while (this.node.fdb.some((f) => f.mac === mac && f.dev === dev)) this.node.fdbDel(mac, dev);
    return Promise.resolve(answer(this.node.fdbAppend({ mac, dev, dst })));
  }

  fdbDel(dev: string, mac: string, dst: string): Promise<KernelResult> {
    return Promise.resolve(answer(this.node.fdbDel(mac, dev, dst)));
  }

  writeSubnetEnv(text: string): Promise<void> {
    this.node.files.set(SUBNET_ENV_PATH, text);
    return Promise.resolve();
  }
}

/** A SimulatedNode-style description of a virtual node: eth0's address and its podCIDR (else cni0's subnet). */
export const describeVirtualNode = (
  node: VirtualNode,
): { name: string; address: string; podCidr: string } => {
  const eth0 = node.addresses.find((a) => a.dev === 'eth0' && a.family === 'inet');
  const cni0 = node.addresses.find((a) => a.dev === 'cni0' && a.family === 'inet');
  const podCidr = node.podCIDR ?? (cni0 ? `${cni0.local}/${cni0.prefixLen}` : undefined);
  if (!eth0 || !podCidr)
    throw new Error(`virtual node ${node.hostname} needs an eth0 IPv4 address and a podCIDR (or cni0)`);
  return { name: node.hostname, address: eth0.local, podCidr: canonicalCidr(podCidr) };
};

const spec = (r: NlRoute) => ({
  dst: r.dst,
  ...(r.gw ? { gateway: r.gw } : {}),
  ...(r.dev ? { dev: r.dev } : {}),
  ...(r.onlink ? { onlink: true } : {}),
});
