// The Dataplane of a lab node: the real kernel of its network namespace, driven through `ip` and
// `bridge` (argument arrays only) via lab.tryExec, and its run dir (the node's /run/flannel).
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { installCniConf } from '../../lab/cni.ts';
import type { Lab, LabNode } from '../../lab/types.ts';
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

interface IpLink {
  ifindex: number;
  ifname: string;
  mtu: number;
  address?: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
  linkinfo?: {
    info_kind?: string;
    info_data?: {
      id?: number;
      local?: string;
      link?: string;
      port?: number;
      group?: string;
      l2miss?: boolean;
      gbp?: boolean;
    };
  };
}

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  prefsrc?: string;
  flags?: string[];
  type?: string;
}

/** `ip route` arguments for a netlink route: `DST [via GW] [dev DEV] [onlink]`. */
const routeArgs = (r: NlRoute): string[] => [
  r.dst,
  ...(r.gw ? ['via', r.gw] : []),
  ...(r.dev ? ['dev', r.dev] : []),
  ...(r.onlink ? ['onlink'] : []),
];

export class LabDataplane implements Dataplane {
  constructor(
    private readonly lab: Lab,
    readonly node: LabNode,
  ) {}

  private async run(argv: readonly string[]): Promise<KernelResult & { stdout: string }> {
    const r = await this.lab.tryExec(this.node.netns, argv);
    if (r.code === 0) return { ok: true, stdout: r.stdout };
    const detail = r.stderr.trim() || r.stdout.trim();
    return { ok: false, errno: errnoOf(detail), detail, stdout: r.stdout };
  }

  private async must(argv: readonly string[]): Promise<string> {
    const r = await this.run(argv);
    if (!r.ok) throw new Error(`${this.node.name}: \`${argv.join(' ')}\`: ${r.detail}`);
    return r.stdout;
  }

  private async json<T>(argv: readonly string[]): Promise<T> {
    const text = (await this.must(argv)).trim();
    return (text ? JSON.parse(text) : []) as T;
  }

  private async linkIndexes(): Promise<Map<string, number>> {
    const links = await this.json<IpLink[]>(['ip', '-j', 'link', 'show']);
    return new Map(links.map((l) => [l.ifname, l.ifindex]));
  }

  async externalInterface(address: string): Promise<ExternalInterface | undefined> {
    const links = await this.json<IpLink[]>(['ip', '-j', 'addr', 'show']);
    const link = links.find((l) => l.addr_info?.some((a) => a.family === 'inet' && a.local === address));
    return link ? { name: link.ifname, index: link.ifindex, mtu: link.mtu, address } : undefined;
  }

  async vxlanLink(name: string): Promise<VxlanLinkInfo | undefined> {
    const r = await this.run(['ip', '-j', '-d', 'link', 'show', 'dev', name]);
    if (!r.ok) return undefined;
    const [link] = JSON.parse(r.stdout) as IpLink[];
    if (!link) return undefined;
    const data = link.linkinfo?.info_data ?? {};
    const indexes = data.link ? await this.linkIndexes() : undefined;
    return {
      name: link.ifname,
      index: link.ifindex,
      mac: link.address ?? '',
      mtu: link.mtu,
      kind: link.linkinfo?.info_kind ?? 'unknown',
      ...(data.id !== undefined ? { vni: data.id } : {}),
      ...(data.local ? { local: data.local } : {}),
      ...(data.link && indexes?.has(data.link) ? { vtepDevIndex: indexes.get(data.link)! } : {}),
      ...(data.port !== undefined ? { port: data.port } : {}),
      ...(data.group ? { group: data.group } : {}),
      ...(data.l2miss ? { l2miss: true } : {}),
      ...(data.gbp ? { gbp: true } : {}),
    };
  }

  async ensureVxlan(spec: VxlanSpec): Promise<EnsuredVxlan> {
    const existing = await this.vxlanLink(spec.name);
    let recreated: string | undefined;
    if (existing) {
      const incompat = vxlanLinksIncompat(spec, existing);
      if (incompat === '') return { ...existing, created: false };
      recreated = incompat;
      await this.must(['ip', 'link', 'del', spec.name]);
    }
    await this.must([
      'ip',
      'link',
      'add',
      spec.name,
      ...(spec.mac ? ['address', spec.mac] : []),
      'mtu',
      String(spec.mtu),
      'type',
      'vxlan',
      'id',
      String(spec.vni),
      'local',
      spec.local,
      'dev',
      spec.extIface.name,
      'dstport',
      String(spec.port || 8472),
      spec.learning ? 'learning' : 'nolearning',
      ...(spec.gbp ? ['gbp'] : []),
    ]);
    const created = await this.vxlanLink(spec.name);
    if (!created) throw new Error(`${this.node.name}: ${spec.name} vanished after creation`);
    return { ...created, created: true, ...(recreated ? { recreated } : {}) };
  }

  async configureVxlan(name: string, cidr: string): Promise<void> {
    const [link] = await this.json<IpLink[]>(['ip', '-j', 'addr', 'show', 'dev', name]);
    const v4 = (link?.addr_info ?? []).filter((a) => a.family === 'inet');
    if (v4.length > 1)
      throw new Error('link has incompatible addresses. Remove additional addresses and try again.');
    const current = v4[0] ? `${v4[0].local}/${v4[0].prefixlen}` : undefined;
    if (current && current !== cidr) await this.must(['ip', 'addr', 'del', current, 'dev', name]);
    if (current !== cidr) await this.must(['ip', 'addr', 'add', cidr, 'dev', name]);
    await this.must(['ip', 'link', 'set', name, 'up']);
  }

  async routeList(): Promise<NlRoute[]> {
    const routes = await this.json<IpRoute[]>(['ip', '-j', '-4', 'route', 'show', 'table', 'main']);
    const indexes = await this.linkIndexes();
    return routes
      .filter((r) => r.dst !== 'default' && (r.type ?? 'unicast') === 'unicast')
      .map((r) => ({
        dst: canonicalCidr(r.dst),
        ...(r.gateway ? { gw: r.gateway } : {}),
        ...(r.dev ? { dev: r.dev } : {}),
        linkIndex: (r.dev && indexes.get(r.dev)) || 0,
        ...(r.flags?.includes('onlink') ? { onlink: true } : {}),
        ...(r.prefsrc ? { src: r.prefsrc } : {}),
        table: 254,
      }));
  }

  async routeGet(ip: string): Promise<RouteGetResult> {
    const r = await this.run(['ip', '-j', 'route', 'get', ip]);
    if (!r.ok) return r;
    const indexes = await this.linkIndexes();
    const routes = (JSON.parse(r.stdout) as IpRoute[]).map((x) => ({
      dst: canonicalCidr(x.dst),
      ...(x.gateway ? { gw: x.gateway } : {}),
      ...(x.dev ? { dev: x.dev } : {}),
      linkIndex: (x.dev && indexes.get(x.dev)) || 0,
    }));
    return { ok: true, routes };
  }

  routeAdd(route: NlRoute): Promise<KernelResult> {
    return this.run(['ip', 'route', 'add', ...routeArgs(route)]).then(strip);
  }

  routeReplace(route: NlRoute): Promise<KernelResult> {
    return this.run(['ip', 'route', 'replace', ...routeArgs(route)]).then(strip);
  }

  routeDel(route: NlRoute): Promise<KernelResult> {
    return this.run(['ip', 'route', 'del', ...routeArgs({ ...route, onlink: false })]).then(strip);
  }

  neighReplace(dev: string, ip: string, mac: string): Promise<KernelResult> {
    return this.run(['ip', 'neigh', 'replace', ip, 'lladdr', mac, 'dev', dev, 'nud', 'permanent']).then(
      strip,
    );
  }

  neighDel(dev: string, ip: string, mac: string): Promise<KernelResult> {
    return this.run(['ip', 'neigh', 'del', ip, 'lladdr', mac, 'dev', dev]).then(strip);
  }

  fdbReplace(dev: string, mac: string, dst: string): Promise<KernelResult> {
    return this.run(['bridge', 'fdb', 'replace', mac, 'dev', dev, 'dst', dst, 'self', 'permanent']).then(
      strip,
    );
  }

  fdbDel(dev: string, mac: string, dst: string): Promise<KernelResult> {
    return this.run(['bridge', 'fdb', 'del', mac, 'dev', dev, 'dst', dst, 'self']).then(strip);
  }

  installCniConf(text: string): Promise<void> {
    installCniConf(this.node, text);
    return Promise.resolve();
  }

  async writeSubnetEnv(text: string): Promise<void> {
    const path = join(this.node.runDir, 'subnet.env');
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, path);
  }
}

const strip = (r: KernelResult & { stdout: string }): KernelResult =>
  r.ok ? OK : { ok: false, errno: r.errno, detail: r.detail };
