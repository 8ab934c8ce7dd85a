// Server-side printing: kubectl asks for meta.k8s.io Tables and prints their columns (-o wide
// shows the priority-1 ones), so the columns here are what users see in `kubectl get`.
import type { KubeObject } from '../cluster-seed.ts';
import type { ResourceType } from './resources.ts';
import { internalIP } from './kubelet.ts';

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  cell: (o: KubeObject) => unknown;
}

/** kubectl's `duration.HumanDuration`: 45s, 3m12s, 25m, 5h3m, 2d4h, 40d, 2y12d. */
export const humanDuration = (ms: number): string => {
  const s = Math.floor(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  const y = Math.floor(h / 24 / 365);
  if (y < 8) return `${y}y${Math.floor(h / 24) % 365}d`;
  return `${y}y`;
};

const age = (o: KubeObject): string => {
  const t = o.metadata?.creationTimestamp;
  return t ? humanDuration(Date.now() - Date.parse(t)) : '<unknown>';
};

type Anyish = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const spec = (o: KubeObject): Anyish => (o.spec ?? {}) as Anyish;
const status = (o: KubeObject): Anyish => (o.status ?? {}) as Anyish;

const name: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata?.name };
const ageCol: Column = { name: 'Age', type: 'string', cell: age };

const nodeRoles = (o: KubeObject): string => {
  const roles = Object.keys(o.metadata?.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .sort();
  return roles.length ? roles.join(',') : '<none>';
};

const nodeStatus = (o: KubeObject): string => {
  const ready = (status(o).conditions ?? []).find((c: Anyish) => c.type === 'Ready');
  const parts = [ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown'];
  if (spec(o).unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
};

const podStatus = (o: KubeObject): string => {
  if (o.metadata?.deletionTimestamp) return 'Terminating';
  for (const c of status(o).containerStatuses ?? []) {
    if (c.state?.waiting?.reason) return c.state.waiting.reason;
  }
  return status(o).phase ?? 'Unknown';
};

const COLUMNS: Record<string, Column[]> = {
  // leaseColumnDefinitions in kubernetes pkg/printers/internalversion/printers.go.
  leases: [name, { name: 'Holder', type: 'string', cell: (o) => spec(o).holderIdentity ?? '' }, ageCol],
  nodes: [
    name,
    { name: 'Status', type: 'string', cell: nodeStatus },
    { name: 'Roles', type: 'string', cell: nodeRoles },
    ageCol,
    { name: 'Version', type: 'string', cell: (o) => status(o).nodeInfo?.kubeletVersion ?? '' },
    { name: 'Internal-IP', type: 'string', priority: 1, cell: (o) => internalIP(o) ?? '<none>' },
    {
      name: 'External-IP',
      type: 'string',
      priority: 1,
      cell: (o) =>
        (status(o).addresses ?? []).find((a: Anyish) => a.type === 'ExternalIP')?.address ?? '<none>',
    },
    {
      name: 'OS-Image',
      type: 'string',
      priority: 1,
      cell: (o) => status(o).nodeInfo?.osImage ?? '<unknown>',
    },
    {
      name: 'Kernel-Version',
      type: 'string',
      priority: 1,
      cell: (o) => status(o).nodeInfo?.kernelVersion ?? '<unknown>',
    },
    {
      name: 'Container-Runtime',
      type: 'string',
      priority: 1,
      cell: (o) => status(o).nodeInfo?.containerRuntimeVersion ?? '<unknown>',
    },
  ],
  pods: [
    name,
    {
      name: 'Ready',
      type: 'string',
      cell: (o) =>
        `${(status(o).containerStatuses ?? []).filter((c: Anyish) => c.ready).length}/${(spec(o).containers ?? []).length}`,
    },
    { name: 'Status', type: 'string', cell: podStatus },
    {
      name: 'Restarts',
      type: 'string',
      cell: (o) =>
        String(
          (status(o).containerStatuses ?? []).reduce((n: number, c: Anyish) => n + (c.restartCount ?? 0), 0),
        ),
    },
    ageCol,
    { name: 'IP', type: 'string', priority: 1, cell: (o) => status(o).podIP ?? '<none>' },
    { name: 'Node', type: 'string', priority: 1, cell: (o) => spec(o).nodeName ?? '<none>' },
    { name: 'Nominated Node', type: 'string', priority: 1, cell: () => '<none>' },
    { name: 'Readiness Gates', type: 'string', priority: 1, cell: () => '<none>' },
  ],
  daemonsets: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => status(o).desiredNumberScheduled ?? 0 },
    { name: 'Current', type: 'integer', cell: (o) => status(o).currentNumberScheduled ?? 0 },
    { name: 'Ready', type: 'integer', cell: (o) => status(o).numberReady ?? 0 },
    { name: 'Up-to-date', type: 'integer', cell: (o) => status(o).updatedNumberScheduled ?? 0 },
    { name: 'Available', type: 'integer', cell: (o) => status(o).numberAvailable ?? 0 },
    {
      name: 'Node Selector',
      type: 'string',
      cell: (o) =>
        Object.entries(spec(o).template?.spec?.nodeSelector ?? {})
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(',') || '<none>',
    },
    ageCol,
    {
      name: 'Containers',
      type: 'string',
      priority: 1,
      cell: (o) => (spec(o).template?.spec?.containers ?? []).map((c: Anyish) => c.name).join(','),
    },
    {
      name: 'Images',
      type: 'string',
      priority: 1,
      cell: (o) => (spec(o).template?.spec?.containers ?? []).map((c: Anyish) => c.image).join(','),
    },
    {
      name: 'Selector',
      type: 'string',
      priority: 1,
      cell: (o) =>
        Object.entries(spec(o).selector?.matchLabels ?? {})
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(',') || '<none>',
    },
  ],
  configmaps: [
    name,
    {
      name: 'Data',
      type: 'integer',
      cell: (o) => Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length,
    },
    ageCol,
  ],
  namespaces: [name, { name: 'Status', type: 'string', cell: (o) => status(o).phase ?? 'Active' }, ageCol],
  serviceaccounts: [name, ageCol],
  events: [
    {
      name: 'Last Seen',
      type: 'string',
      cell: (o) => {
        const t = (o as Anyish).lastTimestamp ?? (o as Anyish).eventTime ?? o.metadata?.creationTimestamp;
        return t ? humanDuration(Date.now() - Date.parse(t)) : '<unknown>';
      },
    },
    { name: 'Type', type: 'string', cell: (o) => (o as Anyish).type ?? '' },
    { name: 'Reason', type: 'string', cell: (o) => (o as Anyish).reason ?? '' },
    {
      name: 'Object',
      type: 'string',
      cell: (o) => {
        const io = (o as Anyish).involvedObject ?? {};
        return `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`;
      },
    },
    { name: 'Message', type: 'string', cell: (o) => (o as Anyish).message ?? '' },
  ],
};

const DEFAULT_COLUMNS: Column[] = [
  name,
  { name: 'Created At', type: 'date', cell: (o) => o.metadata?.creationTimestamp },
];

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export const wantsTable = (accept: string | undefined): boolean => /as=Table/.test(accept ?? '');

export const toTable = (
  t: ResourceType,
  objects: KubeObject[],
  resourceVersion: string,
  include: IncludeObject,
) => {
  const columns = COLUMNS[t.resource] ?? DEFAULT_COLUMNS;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.name,
      priority: c.priority ?? 0,
    })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o)),
      ...(include === 'None'
        ? {}
        : {
            object:
              include === 'Object'
                ? o
                : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
          }),
    })),
  };
};
