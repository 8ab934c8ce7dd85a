// Small clusters for check tests, built from the recorded probe fixtures: node-1 is the recorded node
// verbatim (fixtures/probe/iproute2-6.1.0/*.expected.json); its peers are the same node re-addressed,
// with the routes, neighbours and fdb entries flanneld would program for the backend.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildClusterFacts,
  type ClusterFacts,
  type ClusterFactsInput,
} from '../../src/facts/cluster-facts.ts';
import type { NodeFacts, Route } from '../../src/facts/node-facts.ts';
import { PROBE_FIXTURES } from './probe-fixtures.ts';

export interface Host {
  readonly name: string;
  readonly ip: string;
  /** Third octet of the podCIDR 10.244.N.0/24. */
  readonly n: number;
  readonly mac: string;
}

export const host = (n: number, ip = `192.168.77.${10 + n}`): Host => ({
  name: `node-${n}`,
  ip,
  n,
  mac: `0e:fc:00:00:00:${(0x10 + n).toString(16).padStart(2, '0')}`,
});

export const HOSTS: readonly Host[] = [host(1), host(2), host(3)];
export const cidrOf = (h: Host): string => `10.244.${h.n}.0/24`;

/** A parsed NodeFacts fixture, e.g. 'iproute2-6.1.0/host-gw'. */
export const loadProbeFacts = (id: string): NodeFacts =>
  JSON.parse(readFileSync(join(PROBE_FIXTURES, `${id}.expected.json`), 'utf8')) as NodeFacts;

export const route = (dst: string, fields: Partial<Route> = {}): Route => ({
  family: 'inet',
  dst,
  type: 'unicast',
  gateway: null,
  dev: 'eth0',
  protocol: 'boot',
  scope: 'global',
  metric: null,
  flags: [],
  table: 'main',
  prefsrc: null,
  mtu: null,
  nexthops: [],
  ...fields,
});

export type Backend = 'host-gw' | 'vxlan';

/** The template node re-addressed as `self`, programmed as flanneld would for `backend`. */
export const nodeFactsFor = (
  template: NodeFacts,
  self: Host,
  hosts: readonly Host[],
  backend: Backend,
): NodeFacts => {
  const peers = hosts.filter((h) => h.name !== self.name);
  const mtu = backend === 'vxlan' ? 1450 : 1500;
  return {
    ...template,
    name: self.name,
    address: self.ip,
    hostname: self.name,
    links: (template.links ?? []).map((l) =>
      l.name === 'flannel.1'
        ? { ...l, mac: self.mac, vxlan: l.vxlan ? { ...l.vxlan, local: self.ip } : null }
        : l,
    ),
    addresses: (template.addresses ?? []).map((a) => {
      if (a.family !== 'inet') return a;
      if (a.ifname === 'eth0') return { ...a, local: self.ip };
      if (a.ifname === 'cni0') return { ...a, local: `10.244.${self.n}.1` };
      if (a.ifname === 'flannel.1') return { ...a, local: `10.244.${self.n}.0` };
      return a;
    }),
    routes: [
      route('default', { gateway: '192.168.77.1' }),
      route(cidrOf(self), { dev: 'cni0', protocol: 'kernel', scope: 'link', prefsrc: `10.244.${self.n}.1` }),
      ...peers.map((p) =>
        backend === 'host-gw'
          ? route(cidrOf(p), { gateway: p.ip })
          : route(cidrOf(p), { gateway: `10.244.${p.n}.0`, dev: 'flannel.1', flags: ['onlink'] }),
      ),
      route('192.168.77.0/24', { protocol: 'kernel', scope: 'link', prefsrc: self.ip }),
    ],
    neighbours:
      backend === 'vxlan'
        ? peers.map((p) => ({
            dst: `10.244.${p.n}.0`,
            dev: 'flannel.1',
            lladdr: p.mac,
            state: ['PERMANENT'],
            flags: [],
          }))
        : [],
    fdb:
      backend === 'vxlan'
        ? {
            'flannel.1': peers.map((p) => ({
              mac: p.mac,
              dev: 'flannel.1',
              dst: p.ip,
              vni: null,
              state: 'permanent',
              flags: ['self'],
            })),
          }
        : {},
    routeGets: Object.fromEntries(
      peers.map((p) => [
        p.ip,
        {
          peer: p.ip,
          ok: true as const,
          source: 'json' as const,
          dst: p.ip,
          type: 'unicast',
          gateway: null,
          dev: 'eth0',
          prefsrc: self.ip,
          more: null,
        },
      ]),
    ),
    subnetEnv: {
      network: '10.244.0.0/16',
      subnet: `10.244.${self.n}.1/24`,
      ipv6Network: null,
      ipv6Subnet: null,
      mtu,
      ipMasq: true,
      raw: {
        FLANNEL_NETWORK: '10.244.0.0/16',
        FLANNEL_SUBNET: `10.244.${self.n}.1/24`,
        FLANNEL_MTU: String(mtu),
        FLANNEL_IPMASQ: 'true',
      },
    },
  };
};

export const apiNode = (h: Host, backend: Backend, extra: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name: h.name,
    labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': h.name },
    annotations: {
      'flannel.alpha.coreos.com/backend-type': backend,
      'flannel.alpha.coreos.com/backend-data':
        backend === 'vxlan' ? JSON.stringify({ VNI: 1, VtepMAC: h.mac }) : 'null',
      'flannel.alpha.coreos.com/public-ip': h.ip,
      'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
      ...extra,
    },
  },
  spec: { podCIDR: cidrOf(h), podCIDRs: [cidrOf(h)] },
  status: {
    addresses: [
      { type: 'InternalIP', address: h.ip },
      { type: 'Hostname', address: h.name },
    ],
    conditions: [
      {
        type: 'NetworkUnavailable',
        status: 'False',
        reason: 'FlannelIsUp',
        message: 'Flannel is running on this node',
      },
      { type: 'Ready', status: 'True', reason: 'KubeletReady' },
    ],
  },
});

const IMAGE = 'ghcr.io/flannel-io/flannel:v0.28.9';

export const flannelDaemonSet = (desired: number) => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'kube-flannel-ds', namespace: 'kube-flannel', generation: 1 },
  spec: {
    updateStrategy: { type: 'RollingUpdate' },
    template: {
      spec: {
        containers: [
          {
            name: 'kube-flannel',
            image: IMAGE,
            command: ['/opt/bin/flanneld'],
            args: ['--ip-masq', '--kube-subnet-mgr', '--healthz-port=8081'],
          },
        ],
      },
    },
  },
  status: {
    observedGeneration: 1,
    desiredNumberScheduled: desired,
    currentNumberScheduled: desired,
    numberReady: desired,
    updatedNumberScheduled: desired,
    numberAvailable: desired,
  },
});

export const flannelPod = (h: Host, fields: { ready?: boolean; restarts?: number; image?: string } = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: `kube-flannel-ds-${h.name}`,
    namespace: 'kube-flannel',
    labels: { app: 'flannel', 'pod-template-generation': '1' },
  },
  spec: { nodeName: h.name, containers: [{ name: 'kube-flannel', image: fields.image ?? IMAGE }] },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: fields.ready === false ? 'False' : 'True' }],
    containerStatuses: [
      {
        name: 'kube-flannel',
        ready: fields.ready !== false,
        restartCount: fields.restarts ?? 0,
        image: fields.image ?? IMAGE,
      },
    ],
  },
});

export const configMap = (netConf: object | string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'kube-flannel-cfg', namespace: 'kube-flannel' },
  data: {
    'cni-conf.json': UPSTREAM_CNI_CONF,
    'net-conf.json': typeof netConf === 'string' ? netConf : JSON.stringify(netConf, null, 2),
  },
});

/** cni-conf.json of the upstream manifest (v0.28.9): the delegate says nothing about ipMasq. */
export const UPSTREAM_CNI_CONF = JSON.stringify(
  {
    name: 'cbr0',
    cniVersion: '0.3.1',
    plugins: [
      { type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  },
  null,
  2,
);

export interface ClusterOptions {
  readonly hosts?: readonly Host[];
  readonly directRouting?: boolean;
  /** Per-node facts to use instead of the generated ones. */
  readonly facts?: Readonly<Record<string, NodeFacts>>;
  readonly logs?: Readonly<Record<string, string>>;
}

/** The raw input of a healthy cluster: node-1 is the recorded fixture of the backend. */
export const healthyInput = (backend: Backend, options: ClusterOptions = {}): ClusterFactsInput => {
  const hosts = options.hosts ?? HOSTS;
  const template = loadProbeFacts(`iproute2-6.1.0/${backend}`);
  return {
    api: {
      namespace: 'kube-flannel',
      nodes: hosts.map((h) => apiNode(h, backend)),
      daemonSet: flannelDaemonSet(hosts.length),
      configMap: configMap({
        Network: '10.244.0.0/16',
        EnableNFTables: false,
        Backend: { Type: backend, ...(options.directRouting ? { DirectRouting: true } : {}) },
      }),
      pods: hosts.map((h) => flannelPod(h)),
      logs:
        options.logs ??
        Object.fromEntries(
          hosts.map((h) => [`kube-flannel-ds-${h.name}`, 'I1126 main.go:1] Running backend.\n']),
        ),
      // FailedCreatePodSandBox events: none in a healthy cluster.
      events: [],
    },
    nodes: hosts.map((h) => ({
      name: h.name,
      facts:
        options.facts?.[h.name] ??
        (h.name === 'node-1' && hosts.length === 3 ? template : nodeFactsFor(template, h, hosts, backend)),
    })),
  };
};

export const healthyCluster = (backend: Backend, options: ClusterOptions = {}): ClusterFacts =>
  buildClusterFacts(healthyInput(backend, options));

/** A copy of `facts` with one node's NodeFacts changed. */
export const editNode = (
  facts: ClusterFacts,
  name: string,
  edit: (f: NodeFacts) => NodeFacts,
): ClusterFacts => ({
  ...facts,
  nodes: facts.nodes.map((n) => (n.name === name && n.facts ? { ...n, facts: edit(n.facts) } : n)),
});

/** Non-passing findings as `code node→peer` strings: what assertions compare. */
export const problems = (
  findings: readonly { code: string; severity: string; node?: string; peer?: string }[],
) =>
  findings
    .filter((f) => f.severity !== 'pass')
    .map((f) => `${f.severity} ${f.code}${f.node ? ` ${f.node}` : ''}${f.peer ? `→${f.peer}` : ''}`);

// --- dual stack ---------------------------------------------------------------------------------
// node-1 is fixtures/probe/iproute2-6.1.0/dual-stack-<backend> verbatim; peers get the IPv6 half
// flanneld programs with EnableIPv6 (hostgw.go GetV6Route; vxlan_network.go, flannel-v6.1).

export const IPV6_NETWORK = 'fd00:10:244::/56';
export const ip6Of = (h: Host): string => `fd00:77::${10 + h.n}`;
export const cidr6Of = (h: Host): string => `fd00:10:244:${h.n}::/64`;
export const mac6Of = (h: Host): string => `0e:fc:00:00:06:${(0x10 + h.n).toString(16).padStart(2, '0')}`;

export const route6 = (dst: string, fields: Partial<Route> = {}): Route =>
  route(dst, { family: 'inet6', metric: 1024, ...fields });

/** nodeFactsFor plus the node's IPv6 addresses, routes, neighbours, fdb entries and route gets. */
export const dualStackFactsFor = (
  template: NodeFacts,
  self: Host,
  hosts: readonly Host[],
  backend: Backend,
): NodeFacts => {
  const v4 = nodeFactsFor(template, self, hosts, backend);
  const peers = hosts.filter((h) => h.name !== self.name);
  const kernel = { protocol: 'kernel', metric: 256 };
  const v6Subnet = `fd00:10:244:${self.n}::`;
  return {
    ...v4,
    links: (v4.links ?? []).map((l) =>
      l.name === 'flannel-v6.1'
        ? { ...l, mac: mac6Of(self), vxlan: l.vxlan ? { ...l.vxlan, local: ip6Of(self) } : null }
        : l,
    ),
    addresses: (v4.addresses ?? []).map((a) => {
      if (a.family !== 'inet6' || a.scope !== 'global') return a;
      if (a.ifname === 'eth0') return { ...a, local: ip6Of(self) };
      if (a.ifname === 'cni0') return { ...a, local: `${v6Subnet}1` };
      if (a.ifname === 'flannel-v6.1') return { ...a, local: v6Subnet };
      return a;
    }),
    routes: [
      ...(v4.routes ?? []),
      ...(backend === 'vxlan' ? [route6(`${v6Subnet}/128`, { dev: 'flannel-v6.1', ...kernel })] : []),
      route6(cidr6Of(self), { dev: 'cni0', ...kernel }),
      ...peers.map((p) =>
        backend === 'host-gw'
          ? route6(cidr6Of(p), { gateway: ip6Of(p) })
          : route6(cidr6Of(p), {
              gateway: `fd00:10:244:${p.n}::`,
              dev: 'flannel-v6.1',
              flags: ['onlink'],
            }),
      ),
      route6('fd00:77::/64', kernel),
      route6('fe80::/64', kernel),
      ...(backend === 'vxlan' ? [route6('fe80::/64', { dev: 'flannel-v6.1', ...kernel })] : []),
      route6('default', { gateway: 'fd00:77::1' }),
    ],
    neighbours: [
      ...(v4.neighbours ?? []),
      ...(backend === 'vxlan'
        ? peers.map((p) => ({
            dst: `fd00:10:244:${p.n}::`,
            dev: 'flannel-v6.1',
            lladdr: mac6Of(p),
            state: ['PERMANENT'],
            flags: [],
          }))
        : []),
    ],
    fdb:
      backend === 'vxlan'
        ? {
            ...v4.fdb,
            'flannel-v6.1': peers.map((p) => ({
              mac: mac6Of(p),
              dev: 'flannel-v6.1',
              dst: ip6Of(p),
              vni: null,
              state: 'permanent',
              flags: ['self'],
            })),
          }
        : v4.fdb,
    routeGets: {
      ...v4.routeGets,
      ...Object.fromEntries(
        peers.map((p) => [
          ip6Of(p),
          {
            peer: ip6Of(p),
            ok: true as const,
            source: 'json' as const,
            dst: ip6Of(p),
            type: 'unicast',
            gateway: null,
            dev: 'eth0',
            prefsrc: ip6Of(self),
            more: null,
          },
        ]),
      ),
    },
    subnetEnv:
      v4.subnetEnv && v4.subnetEnv !== 'missing'
        ? { ...v4.subnetEnv, ipv6Network: IPV6_NETWORK, ipv6Subnet: `${v6Subnet}1/64` }
        : v4.subnetEnv,
  };
};

/** A healthy dual-stack cluster: net-conf EnableIPv6, dual podCIDRs, public-ipv6 and backend-v6-data. */
export const dualStackInput = (backend: Backend, options: ClusterOptions = {}): ClusterFactsInput => {
  const hosts = options.hosts ?? HOSTS;
  const template = loadProbeFacts(`iproute2-6.1.0/dual-stack-${backend}`);
  const facts = Object.fromEntries(
    hosts.map((h) => [
      h.name,
      options.facts?.[h.name] ??
        (h.name === 'node-1' && hosts.length === 3
          ? template
          : dualStackFactsFor(template, h, hosts, backend)),
    ]),
  );
  const base = healthyInput(backend, { ...options, hosts, facts });
  return {
    ...base,
    api: {
      ...base.api!,
      nodes: hosts.map((h) => ({
        ...apiNode(h, backend, {
          'flannel.alpha.coreos.com/public-ipv6': ip6Of(h),
          // kube.go AcquireLease: host-gw writes "null", vxlan the flannel-v6.N VtepMAC.
          'flannel.alpha.coreos.com/backend-v6-data':
            backend === 'vxlan' ? JSON.stringify({ VNI: 1, VtepMAC: mac6Of(h) }) : 'null',
        }),
        spec: { podCIDR: cidrOf(h), podCIDRs: [cidrOf(h), cidr6Of(h)] },
      })),
      configMap: configMap({
        Network: '10.244.0.0/16',
        EnableIPv6: true,
        IPv6Network: IPV6_NETWORK,
        EnableNFTables: false,
        Backend: { Type: backend, ...(options.directRouting ? { DirectRouting: true } : {}) },
      }),
    },
  };
};

export const dualStackCluster = (backend: Backend, options: ClusterOptions = {}): ClusterFacts =>
  buildClusterFacts(dualStackInput(backend, options));
