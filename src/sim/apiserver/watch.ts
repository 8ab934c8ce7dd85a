// Watch streams: one JSON event per line over a chunked response, resumable from a
// resourceVersion, with objects entering or leaving a selector reported as ADDED / DELETED.
import type { ServerResponse } from 'node:http';
import type { KubeObject } from '../cluster-seed.ts';
import { ApiError } from './api-error.ts';
import type { ResourceType } from './resources.ts';
import type { FieldSelector, LabelSelector } from './selectors.ts';
import { matchesFields, matchesLabels } from './selectors.ts';
import type { Registry } from './registry.ts';
import type { Store, StoreEvent } from './store.ts';

export interface WatchRequest {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly labelSelector: LabelSelector;
  readonly fieldSelector: FieldSelector;
  readonly resourceVersion: string | undefined;
  readonly timeoutSeconds: number | undefined;
  readonly sendInitialEvents: boolean;
  readonly allowBookmarks: boolean;
}

export const serveWatch = (
  store: Store,
  registry: Registry,
  req: WatchRequest,
  res: ServerResponse,
  onEnd: () => void,
): void => {
  const matches = (o: KubeObject) =>
    (req.namespace === undefined || o.metadata?.namespace === req.namespace) &&
    matchesLabels(req.labelSelector, o.metadata?.labels) &&
    matchesFields(req.fieldSelector, o);
  const write = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
  const translate = (e: StoreEvent): void => {
    if (e.resource !== req.type) return;
    const now = matches(e.object);
    if (e.type === 'MODIFIED') {
      const before = e.previous ? matches(e.previous) : false;
      if (now && before) write('MODIFIED', e.object);
      else if (now) write('ADDED', e.object);
      else if (before) write('DELETED', e.object);
    } else if (now) write(e.type, e.object);
  };

  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  // Clients (client-node's fetch) wait for headers before reading events: send them now.
  res.flushHeaders();
  // Subscribing and replaying happen in one tick, so no change can fall between them.
  const unsubscribe = store.subscribe(translate);
  const rv = req.resourceVersion;
  if (req.sendInitialEvents || rv === undefined || rv === '' || rv === '0') {
    for (const o of registry.list(req.type, req.namespace, {
      labelSelector: req.labelSelector,
      fieldSelector: req.fieldSelector,
    }))
      write('ADDED', o);
    if (req.sendInitialEvents && req.allowBookmarks) {
      write('BOOKMARK', {
        kind: req.type.kind,
        apiVersion: req.type.group ? `${req.type.group}/${req.type.version}` : req.type.version,
        metadata: {
          resourceVersion: store.resourceVersion,
          annotations: { 'k8s.io/initial-events-end': 'true' },
        },
      });
    }
  } else {
    const since = store.eventsSince(Number(rv));
    if (!since || Number.isNaN(Number(rv))) {
      write(
        'ERROR',
        new ApiError(410, 'Expired', `too old resource version: ${rv} (${store.resourceVersion})`).toStatus(),
      );
      unsubscribe();
      res.end();
      onEnd();
      return;
    }
    for (const e of since) translate(e);
  }
  let timer: NodeJS.Timeout | undefined;
  const finish = () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
    if (!res.writableEnded) res.end();
    onEnd();
  };
  if (req.timeoutSeconds !== undefined && req.timeoutSeconds > 0)
    timer = setTimeout(finish, req.timeoutSeconds * 1000);
  res.on('close', finish);
};
