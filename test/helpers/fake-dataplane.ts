// A small in-memory Dataplane for the agent's decision logic: routes with the kernel's two answers
// that matter to flanneld (a gateway off every connected subnet is ENETUNREACH, a second route to a
// Dst is EEXIST), neighbours, FDB, subnet.env, and a log of every mutating call.
import { contains, parseCidr, parseIp } from '../../src/flannel/cidr.ts';
import type {
  Dataplane,
  EnsuredVxlan,
  ExternalInterface,
  KernelResult,
  NlRoute,
  RouteGetResult,
  VxlanLinkInfo,
  VxlanSpec,
} from '../../src/sim/flannel-agent/dataplane.ts';
import { OK, vxlanLinksIncompat } from '../../src/sim/flannel-agent/dataplane.ts';

const fail = (errno: 'ENETUNREACH' | 'EEXIST' | 'ESRCH' | 'ENODEV', detail: string): KernelResult => ({
  ok: false,
  errno,
  detail,
});

export class FakeDataplane implements Dataplane {
  readonly ext: ExternalInterface;
  /** Subnets reachable without a gateway (eth0's connected route). */
  readonly connected: string[];
  /** The next hop `ip route get` reports for anything off the connected subnets. */
  readonly router: string | undefined;
  routes: NlRoute[] = [];
  readonly neighbours = new Map<string, string>();
  readonly fdb = new Map<string, string>();
  vxlan: (VxlanLinkInfo & { address?: string; up?: boolean }) | undefined;
  subnetEnv: string | undefined;
  /** "routeAdd 10.244.2.0/24 via 192.168.77.12 dev eth0" … for assertions on what was called. */
  readonly calls: string[] = [];

  constructor(o: { address: string; subnet: string; mtu?: number; router?: string }) {
    this.ext = { name: 'eth0', index: 2, mtu: o.mtu ?? 1500, address: o.address };
    this.connected = [o.subnet];
    this.router = o.router;
  }

  private onLink(ip: string): boolean {
    const addr = parseIp(ip);
    return !!addr && this.connected.some((c) => contains(parseCidr(c), addr));
  }

  private validate(r: NlRoute): NlRoute | KernelResult {
    if (r.gw && !r.onlink && !this.onLink(r.gw))
      return fail('ENETUNREACH', 'Error: Nexthop has invalid gateway.');
    if (r.dev === 'flannel.1' && !this.vxlan) return fail('ENODEV', 'Cannot find device "flannel.1"');
    const dev = r.dev ?? this.ext.name;
    const linkIndex = dev === this.ext.name ? this.ext.index : this.vxlan!.index;
    return {
      dst: r.dst,
      ...(r.gw ? { gw: r.gw } : {}),
      dev,
      linkIndex,
      ...(r.onlink ? { onlink: true } : {}),
      table: 254,
    };
  }

  private describe(r: NlRoute): string {
    return `${r.dst}${r.gw ? ` via ${r.gw}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${r.onlink ? ' onlink' : ''}`;
  }

  externalInterface(address: string): Promise<ExternalInterface | undefined> {
    return Promise.resolve(address === this.ext.address ? this.ext : undefined);
  }

  vxlanLink(): Promise<VxlanLinkInfo | undefined> {
    return Promise.resolve(this.vxlan);
  }

  ensureVxlan(spec: VxlanSpec): Promise<EnsuredVxlan> {
    if (this.vxlan && vxlanLinksIncompat(spec, this.vxlan) === '')
      return Promise.resolve({ ...this.vxlan, created: false });
    this.calls.push(`ensureVxlan create mtu ${spec.mtu}`);
    this.vxlan = {
      name: spec.name,
      index: 10,
      mac: spec.mac ?? '0e:00:00:00:00:01',
      mtu: spec.mtu,
      kind: 'vxlan',
      vni: spec.vni,
      local: spec.local,
      vtepDevIndex: spec.extIface.index,
      port: spec.port || 8472,
    };
    return Promise.resolve({ ...this.vxlan, created: true });
  }

  configureVxlan(_name: string, cidr: string): Promise<void> {
    this.vxlan = { ...this.vxlan!, address: cidr, up: true };
    return Promise.resolve();
  }

  routeList(): Promise<NlRoute[]> {
    return Promise.resolve(this.routes.map((r) => ({ ...r })));
  }

  routeGet(ip: string): Promise<RouteGetResult> {
    if (this.onLink(ip))
      return Promise.resolve({
        ok: true,
        routes: [{ dst: `${ip}/32`, dev: 'eth0', linkIndex: this.ext.index }],
      });
    if (!this.router)
      return Promise.resolve({ ok: false, errno: 'ENETUNREACH', detail: 'Network is unreachable' });
    return Promise.resolve({
      ok: true,
      routes: [{ dst: `${ip}/32`, gw: this.router, dev: 'eth0', linkIndex: this.ext.index }],
    });
  }

  routeAdd(route: NlRoute): Promise<KernelResult> {
    this.calls.push(`routeAdd ${this.describe(route)}`);
    const r = this.validate(route);
    if ('ok' in r) return Promise.resolve(r);
    if (this.routes.some((x) => x.dst === r.dst))
      return Promise.resolve(fail('EEXIST', 'RTNETLINK answers: File exists'));
    this.routes.push(r);
    return Promise.resolve(OK);
  }

  routeReplace(route: NlRoute): Promise<KernelResult> {
    this.calls.push(`routeReplace ${this.describe(route)}`);
    const r = this.validate(route);
    if ('ok' in r) return Promise.resolve(r);
    this.routes = [...this.routes.filter((x) => x.dst !== r.dst), r];
    return Promise.resolve(OK);
  }

  routeDel(route: NlRoute): Promise<KernelResult> {
    this.calls.push(`routeDel ${this.describe(route)}`);
    const at = this.routes.findIndex((x) => x.dst === route.dst && (!route.gw || x.gw === route.gw));
    if (at < 0) return Promise.resolve(fail('ESRCH', 'RTNETLINK answers: No such process'));
    this.routes.splice(at, 1);
    return Promise.resolve(OK);
  }

  neighReplace(_dev: string, ip: string, mac: string): Promise<KernelResult> {
    this.calls.push(`neighReplace ${ip} ${mac}`);
    this.neighbours.set(ip, mac);
    return Promise.resolve(OK);
  }

  neighDel(_dev: string, ip: string): Promise<KernelResult> {
    this.calls.push(`neighDel ${ip}`);
    return Promise.resolve(this.neighbours.delete(ip) ? OK : fail('ESRCH', 'No such process'));
  }

  fdbReplace(_dev: string, mac: string, dst: string): Promise<KernelResult> {
    this.calls.push(`fdbReplace ${mac} ${dst}`);
    this.fdb.set(mac, dst);
    return Promise.resolve(OK);
  }

  fdbDel(_dev: string, mac: string): Promise<KernelResult> {
    this.calls.push(`fdbDel ${mac}`);
    return Promise.resolve(this.fdb.delete(mac) ? OK : fail('ESRCH', 'No such process'));
  }

  writeSubnetEnv(text: string): Promise<void> {
    this.subnetEnv = text;
    return Promise.resolve();
  }
}
