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
  data: { 'net-conf.json': typeof netConf === 'string' ? netConf : JSON.stringify(netConf, null, 2) },
});

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
