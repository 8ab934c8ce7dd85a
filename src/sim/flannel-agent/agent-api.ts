// The few API calls flanneld makes, over plain HTTP to any API server (the emulator by default):
// GET the ConfigMap, GET/PATCH nodes/status, and a node informer (list, then watch, relist on 410).
import type { KubeObject } from '../cluster-seed.ts';

export type NodeEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface NodeEvent {
  readonly type: NodeEventType;
  readonly node: KubeObject;
  /** The cached object before a MODIFIED, as an informer's UpdateFunc gets it. */
  readonly previous?: KubeObject;
}

export interface NodeInformer {
  /** Resolves once the initial list has been delivered (WaitForCacheSync). */
  readonly synced: Promise<void>;
  stop(): void;
}

export interface AgentApi {
  getConfigMap(namespace: string, name: string): Promise<KubeObject | undefined>;
  getNode(name: string): Promise<KubeObject | undefined>;
  /** Strategic-merge patch of nodes/<name>/status. */
  patchNodeStatus(name: string, patch: unknown): Promise<KubeObject>;
  /** Delivers events in order, one at a time (each handler call is awaited). */
  watchNodes(handler: (event: NodeEvent) => Promise<void>): NodeInformer;
}

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

export const httpAgentApi = (baseUrl: string, token: string): AgentApi => {
  const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
  const request = async (method: string, path: string, body?: unknown): Promise<KubeObject | undefined> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...headers,
        ...(body !== undefined ? { 'Content-Type': 'application/strategic-merge-patch+json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (res.status === 404 && method === 'GET') return undefined;
    if (!res.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        /* not a Status */
      }
      throw new ApiRequestError(res.status, message);
    }
    return JSON.parse(text) as KubeObject;
  };

  return {
    getConfigMap: (ns, name) =>
      request('GET', `/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps/${encodeURIComponent(name)}`),
    getNode: (name) => request('GET', `/api/v1/nodes/${encodeURIComponent(name)}`),
    patchNodeStatus: async (name, patch) =>
      (await request('PATCH', `/api/v1/nodes/${encodeURIComponent(name)}/status`, patch))!,
    watchNodes: (handler) => startInformer(baseUrl, headers, handler),
  };
};

const startInformer = (
  baseUrl: string,
  headers: Record<string, string>,
  handler: (event: NodeEvent) => Promise<void>,
): NodeInformer => {
  const abort = new AbortController();
  const cache = new Map<string, KubeObject>();
  let resolveSynced!: () => void;
  let rejectSynced!: (e: unknown) => void;
  const synced = new Promise<void>((resolve, reject) => {
    resolveSynced = resolve;
    rejectSynced = reject;
  });
  synced.catch(() => undefined);
  let rv = '';

  const deliver = async (type: NodeEventType, node: KubeObject): Promise<void> => {
    const name = node.metadata!.name!;
    const previous = cache.get(name);
    if (type === 'DELETED') cache.delete(name);
    else cache.set(name, node);
    rv = node.metadata?.resourceVersion ?? rv;
    await handler({ type, node, ...(previous && type === 'MODIFIED' ? { previous } : {}) });
  };

  /** List and reconcile the cache against it, as a relisting reflector does. */
  const list = async (): Promise<void> => {
    const res = await fetch(`${baseUrl}/api/v1/nodes`, { headers, signal: abort.signal });
    if (!res.ok) throw new Error(`list nodes: HTTP ${res.status}`);
    const body = (await res.json()) as { items: KubeObject[]; metadata: { resourceVersion: string } };
    const seen = new Set<string>();
    for (const node of body.items) {
      const name = node.metadata!.name!;
      seen.add(name);
      const before = cache.get(name);
      if (!before) await deliver('ADDED', node);
      else if (before.metadata?.resourceVersion !== node.metadata?.resourceVersion)
        await deliver('MODIFIED', node);
    }
    for (const [name, node] of [...cache]) if (!seen.has(name)) await deliver('DELETED', node);
    rv = body.metadata.resourceVersion;
  };

  const watch = async (): Promise<'relist' | 'again'> => {
    const res = await fetch(
      `${baseUrl}/api/v1/nodes?watch=true&allowWatchBookmarks=false&resourceVersion=${encodeURIComponent(rv)}`,
      { headers, signal: abort.signal },
    );
    if (!res.ok || !res.body) return 'relist';
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return 'again';
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        const event = JSON.parse(line) as { type: string; object: KubeObject };
        if (event.type === 'ERROR') return 'relist';
        if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED')
          await deliver(event.type, event.object);
      }
    }
  };

  void (async () => {
    let next: 'relist' | 'again' = 'relist';
    while (!abort.signal.aborted) {
      try {
        if (next === 'relist') await list();
        resolveSynced();
        next = await watch();
      } catch (error) {
        if (abort.signal.aborted) break;
        // A reflector retries after a dropped connection; it relists to catch what it missed.
        rejectSynced(error);
        next = 'relist';
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  })();

  return { synced, stop: () => abort.abort() };
};
