// Storage: objects by resource, namespace and name, one resourceVersion counter, and a bounded
// history of changes so a watch can resume from a resourceVersion (410 Gone once it is too old).
import type { KubeObject } from '../cluster-seed.ts';
import type { ResourceType } from './resources.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly type: WatchEventType;
  readonly rv: number;
  readonly resource: ResourceType;
  readonly object: KubeObject;
  /** The object before a MODIFIED, so a selector watch can tell "left the selection". */
  readonly previous?: KubeObject;
}

type Listener = (event: StoreEvent) => void;

export class Store {
  private rv = 1000;
  private readonly tables = new Map<string, Map<string, Map<string, KubeObject>>>();
  private readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<Listener>();

  constructor(private readonly historyLimit = 50_000) {}

  get resourceVersion(): string {
    return String(this.rv);
  }

  nextResourceVersion(): string {
    return String(++this.rv);
  }

  private table(t: ResourceType): Map<string, Map<string, KubeObject>> {
    let table = this.tables.get(t.resource);
    if (!table) this.tables.set(t.resource, (table = new Map()));
    return table;
  }

  get(t: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.tables
      .get(t.resource)
      ?.get(namespace ?? '')
      ?.get(name);
  }

  /** Objects of a type, in one namespace or all, sorted by namespace then name like etcd keys. */
  list(t: ResourceType, namespace?: string): KubeObject[] {
    const table = this.tables.get(t.resource);
    if (!table) return [];
    const spaces = namespace !== undefined ? [namespace] : [...table.keys()].sort();
    const out: KubeObject[] = [];
    for (const ns of spaces) {
      const objects = table.get(ns);
      if (!objects) continue;
      for (const name of [...objects.keys()].sort()) out.push(objects.get(name)!);
    }
    return out;
  }

  count(t: ResourceType): number {
    let n = 0;
    for (const objects of this.tables.get(t.resource)?.values() ?? []) n += objects.size;
    return n;
  }

  /** Stores `object` (which must carry its new resourceVersion) and tells watchers. */
  put(t: ResourceType, object: KubeObject, type: 'ADDED' | 'MODIFIED'): void {
    const ns = object.metadata?.namespace ?? '';
    const name = object.metadata!.name!;
    const table = this.table(t);
    let objects = table.get(ns);
    if (!objects) table.set(ns, (objects = new Map()));
    const previous = objects.get(name);
    objects.set(name, object);
    this.emit({
      type,
      rv: Number(object.metadata!.resourceVersion),
      resource: t,
      object,
      ...(previous ? { previous } : {}),
    });
  }

  remove(t: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const objects = this.tables.get(t.resource)?.get(namespace ?? '');
    const existing = objects?.get(name);
    if (!existing) return undefined;
    objects!.delete(name);
    // The DELETED event carries the object at a new resourceVersion, as etcd's delete revision.
    const rv = this.nextResourceVersion();
    const gone = { ...existing, metadata: { ...existing.metadata, resourceVersion: rv } };
    this.emit({ type: 'DELETED', rv: Number(rv), resource: t, object: gone });
    return gone;
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > this.historyLimit)
      this.history.splice(0, this.history.length - this.historyLimit);
    for (const listener of [...this.listeners]) listener(event);
  }

  /** Changes after `rv`, or undefined when the history no longer reaches back that far. */
  eventsSince(rv: number): StoreEvent[] | undefined {
    const first = this.history[0];
    if (first && rv < first.rv - 1 && this.history.length >= this.historyLimit) return undefined;
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid]!.rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
