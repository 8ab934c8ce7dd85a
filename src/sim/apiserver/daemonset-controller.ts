// The DaemonSet controller: one pod per eligible node, rolling updates at most maxUnavailable at a
// time (waiting for Ready), OnDelete left alone, and the status fields `kubectl rollout status` reads.
import { createHash } from 'node:crypto';
import type { KubeObject } from '../cluster-seed.ts';
import type { Registry } from './registry.ts';
import { randomSuffix } from './registry.ts';
import { resourceByName } from './resources.ts';
import type { PodSpecLike } from './scheduling.ts';
import { daemonPodTolerations, fitsNode } from './scheduling.ts';
import { matchesStructuredSelector } from './selectors.ts';
import type { StructuredLabelSelector } from './selectors.ts';
import { clone } from './schema.ts';
import type { Store } from './store.ts';

const DAEMONSETS = resourceByName('daemonsets');
const PODS = resourceByName('pods');
const NODES = resourceByName('nodes');
const MANAGER = 'kube-controller-manager';

interface DaemonSetSpec {
  selector?: StructuredLabelSelector;
  template?: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec?: PodSpecLike & Record<string, unknown>;
  };
  updateStrategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string } };
}

/** A stable short hash of the pod template, like the ControllerRevision hash label. */
export const templateHash = (template: unknown): string => {
  const digest = createHash('sha256').update(stableJson(template)).digest();
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let out = '';
  for (let i = 0; i < 10; i++) out += alphabet[digest[i]! % alphabet.length];
  return out;
};

const stableJson = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
};

export const isPodReady = (pod: KubeObject): boolean =>
  ((pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some(
    (c) => c.type === 'Ready' && c.status === 'True',
  );

const scaled = (value: number | string | undefined, total: number): number => {
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value ?? '');
  return m ? Math.ceil((Number(m[1]) * total) / 100) : 1;
};

export class DaemonSetController {
  private readonly pending = new Set<string>();
  private scheduled: NodeJS.Immediate | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
  ) {
    this.unsubscribe = store.subscribe((event) => {
      if (event.resource === DAEMONSETS) {
        if (event.type !== 'DELETED')
          this.enqueue(event.object.metadata!.namespace!, event.object.metadata!.name!);
      } else if (event.resource === PODS) {
        const owner = event.object.metadata?.ownerReferences?.find(
          (r) => r.kind === 'DaemonSet' && r.controller,
        );
        if (owner) this.enqueue(event.object.metadata!.namespace!, owner.name);
      } else if (event.resource === NODES) {
        for (const ds of store.list(DAEMONSETS)) this.enqueue(ds.metadata!.namespace!, ds.metadata!.name!);
      }
    });
  }

  stop(): void {
    this.unsubscribe();
    if (this.scheduled) clearImmediate(this.scheduled);
    this.pending.clear();
  }

  /** Coalesces bursts of events into one pass per DaemonSet. */
  private enqueue(namespace: string, name: string): void {
    this.pending.add(`${namespace}/${name}`);
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      const keys = [...this.pending];
      this.pending.clear();
      for (const key of keys) {
        const [ns, n] = key.split('/') as [string, string];
        try {
          this.reconcile(ns, n);
        } catch {
          // A concurrent change (deleted namespace, pod gone) is picked up by the next event.
        }
      }
    });
  }

  reconcile(namespace: string, name: string): void {
    const ds = this.store.get(DAEMONSETS, namespace, name);
    if (!ds) return;
    const spec = (ds.spec ?? {}) as DaemonSetSpec;
    const podSpec = (spec.template?.spec ?? {}) as PodSpecLike & Record<string, unknown>;
    const hash = templateHash(spec.template);
    const generation = ds.metadata!.generation ?? 1;
    const uid = ds.metadata!.uid!;
    const nodes = this.store.list(NODES);
    const eligible = new Set(nodes.filter((n) => fitsNode(podSpec, n)).map((n) => n.metadata!.name!));
    const byNode = new Map<string, KubeObject[]>();
    const stray: KubeObject[] = [];
    for (const pod of this.store.list(PODS, namespace)) {
      if (!pod.metadata?.ownerReferences?.some((r) => r.uid === uid)) continue;
      const node = (pod.spec as { nodeName?: string }).nodeName ?? '';
      if (!eligible.has(node)) {
        stray.push(pod);
        continue;
      }
      const list = byNode.get(node) ?? [];
      list.push(pod);
      byNode.set(node, list);
    }
    for (const pod of stray) this.deletePod(pod);
    for (const [, pods] of byNode) {
      // Keep the newest-template pod when a node somehow has two.
      pods.sort((a, b) => Number(isCurrent(b, hash)) - Number(isCurrent(a, hash)));
      for (const extra of pods.splice(1)) this.deletePod(extra);
    }
    for (const node of eligible)
      if (!byNode.has(node)) byNode.set(node, [this.createPod(ds, spec, node, hash, generation)]);

    if ((spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      const desired = eligible.size;
      let budget = Math.max(1, scaled(spec.updateStrategy?.rollingUpdate?.maxUnavailable, desired));
      const pods = [...byNode.values()].map((l) => l[0]!);
      const unavailable = pods.filter((p) => !isPodReady(p)).length;
      budget -= unavailable;
      const old = pods.filter((p) => !isCurrent(p, hash));
      // Old pods that are not ready cost no availability: replace them first, always.
      for (const pod of old.filter((p) => !isPodReady(p))) this.deletePod(pod);
      for (const pod of old.filter((p) => isPodReady(p))) {
        if (budget <= 0) break;
        this.deletePod(pod);
        budget--;
      }
    }
    this.writeStatus(ds, eligible, hash, stray.length);
  }

  private createPod(
    ds: KubeObject,
    spec: DaemonSetSpec,
    node: string,
    hash: string,
    generation: number,
  ): KubeObject {
    const template = clone(spec.template ?? {});
    const podSpec = { ...(template.spec ?? {}), nodeName: node } as PodSpecLike & Record<string, unknown>;
    podSpec.tolerations = daemonPodTolerations(podSpec);
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${ds.metadata!.name}-${randomSuffix()}`,
        namespace: ds.metadata!.namespace!,
        labels: {
          ...template.metadata?.labels,
          'controller-revision-hash': hash,
          'pod-template-generation': String(generation),
        },
        ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'DaemonSet',
            name: ds.metadata!.name!,
            uid: ds.metadata!.uid!,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: podSpec,
    };
    return this.registry.create(PODS, ds.metadata!.namespace!, pod, { manager: MANAGER });
  }

  private deletePod(pod: KubeObject): void {
    if (this.store.get(PODS, pod.metadata!.namespace!, pod.metadata!.name!)) {
      this.registry.delete(PODS, pod.metadata!.namespace!, pod.metadata!.name!);
    }
  }

  private writeStatus(ds: KubeObject, eligible: Set<string>, hash: string, misscheduled: number): void {
    const pods = this.store
      .list(PODS, ds.metadata!.namespace!)
      .filter(
        (p) =>
          p.metadata?.ownerReferences?.some((r) => r.uid === ds.metadata!.uid) &&
          eligible.has((p.spec as { nodeName?: string }).nodeName ?? ''),
      );
    const nodesWithPod = new Set(pods.map((p) => (p.spec as { nodeName: string }).nodeName));
    const ready = pods.filter(isPodReady).length;
    const desired = eligible.size;
    const status: Record<string, unknown> = {
      currentNumberScheduled: nodesWithPod.size,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: ds.metadata!.generation ?? 1,
      updatedNumberScheduled: pods.filter((p) => isCurrent(p, hash)).length,
      numberAvailable: ready,
      ...(desired - ready > 0 ? { numberUnavailable: desired - ready } : {}),
    };
    if (
      !matchesStructuredSelector(
        (ds.spec as DaemonSetSpec).selector,
        (ds.spec as DaemonSetSpec).template?.metadata?.labels,
      )
    )
      return;
    this.registry.writeStatus(DAEMONSETS, ds.metadata!.namespace!, ds.metadata!.name!, status, MANAGER);
  }
}

const isCurrent = (pod: KubeObject, hash: string): boolean =>
  pod.metadata?.labels?.['controller-revision-hash'] === hash;
