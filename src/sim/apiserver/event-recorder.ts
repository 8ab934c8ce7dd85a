// core/v1 Events as a component's client-go event recorder writes them (k8s.io/client-go tools/record
// event.go makeEvent/generateEvent, events_cache.go EventCorrelator):
// - an event names its object by reference (kind, namespace, name, uid, apiVersion, resourceVersion),
//   is called `<object>.<unix nanoseconds in hex>` and says who reported it (source, reporting*);
// - the same event again (same source, object, type, reason and message) is the same Event object with
//   count + 1 and a new lastTimestamp (eventObserve);
// - events that differ only by message (kubelet's sandbox errors name a new sandbox each time) are
//   separate until 10 of them came within 10 minutes; from then on one Event "(combined from similar
//   events): <latest message>" counts them (EventAggregate);
// - a source may burst 25 events about one object, then 1 every 5 minutes (EventSourceObjectSpamFilter).
import type { KubeObject } from '../cluster-seed.ts';
import { ApiError } from './api-error.ts';
import { STRATEGIC_MERGE_PATCH } from './patch.ts';
import type { Registry } from './registry.ts';
import { findResourceByKind, resourceByName } from './resources.ts';

export interface EventSource {
  readonly component: string;
  readonly host?: string;
}

export interface EventInput {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export interface EventRecorderOptions {
  /** Milliseconds since the epoch; Date.now by default. */
  readonly clock?: () => number;
}

const EVENTS = resourceByName('events');
const AGGREGATE_MAX_EVENTS = 10;
const AGGREGATE_INTERVAL_MS = 600_000;
const SPAM_BURST = 25;
const SPAM_REFILL_MS = 300_000;
/** client-go keeps 4096 entries per cache (an LRU); the oldest go first here. */
const CACHE_ENTRIES = 4096;

interface Observed {
  name: string;
  count: number;
  firstTimestamp: string;
}

const remember = <V>(cache: Map<string, V>, key: string, value: V): void => {
  cache.delete(key);
  cache.set(key, value);
  if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
};

/** metav1.Time: RFC 3339 with whole seconds. */
const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class EventRecorder {
  private readonly clock: () => number;
  private readonly aggregates = new Map<string, { messages: Set<string>; last: number }>();
  private readonly observed = new Map<string, Observed>();
  private readonly spam = new Map<string, { tokens: number; at: number }>();
  private nanos = 0n;

  constructor(
    private readonly registry: Registry,
    options: EventRecorderOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  /** Records the event about `object`; returns the Event as stored, or undefined when spam-filtered. */
  record(source: EventSource, object: KubeObject, input: EventInput): KubeObject | undefined {
    const now = this.clock();
    const ref = reference(object);
    const host = source.host ?? '';
    const base = [source.component, host, ref.kind, ref.namespace, ref.name, ref.uid, ref.apiVersion];
    let event: KubeObject & Record<string, unknown> = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: this.eventName(ref.name, now), namespace: ref.namespace || 'default' },
      involvedObject: ref,
      reason: input.reason,
      message: input.message,
      source: { component: source.component, ...(source.host ? { host: source.host } : {}) },
      firstTimestamp: rfc3339(now),
      lastTimestamp: rfc3339(now),
      count: 1,
      type: input.type,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: host,
    };
    let key = [...base, '', input.type, input.reason, input.message].join('\u0000');

    // EventAggregate: grouped by everything but the message.
    const aggregateKey = [...base, input.type, input.reason, source.component, host].join('\u0000');
    let group = this.aggregates.get(aggregateKey);
    if (!group || now - group.last > AGGREGATE_INTERVAL_MS) group = { messages: new Set(), last: now };
    group.messages.add(input.message);
    group.last = now;
    remember(this.aggregates, aggregateKey, group);
    if (group.messages.size >= AGGREGATE_MAX_EVENTS) {
      group.messages.delete(group.messages.values().next().value!);
      // The aggregate carries no reporting fields: upstream builds it from scratch.
      const { reportingComponent: _c, reportingInstance: _i, ...rest } = event;
      event = { ...rest, message: `(combined from similar events): ${input.message}` };
      key = aggregateKey;
    }

    // eventObserve: a cache hit is the same Event, counted once more.
    const last = this.observed.get(key);
    if (last) {
      event.metadata!.name = last.name;
      event.firstTimestamp = last.firstTimestamp;
      event.count = last.count + 1;
    }
    remember(this.observed, key, {
      name: event.metadata!.name!,
      count: event.count as number,
      firstTimestamp: event.firstTimestamp as string,
    });
    if (this.spamFiltered(base.join('\u0000'), now)) return undefined;
    return last ? this.update(event) : this.create(event);
  }

  /** `<name>.<UnixNano in hex>`, strictly increasing so two events in one millisecond never collide. */
  private eventName(name: string, now: number): string {
    const nanos = BigInt(now) * 1_000_000n;
    this.nanos = nanos > this.nanos ? nanos : this.nanos + 1n;
    return `${name}.${this.nanos.toString(16)}`;
  }

  /** A token bucket per source and object: SPAM_BURST tokens, one back every SPAM_REFILL_MS. */
  private spamFiltered(key: string, now: number): boolean {
    const bucket = this.spam.get(key) ?? { tokens: SPAM_BURST, at: now };
    bucket.tokens = Math.min(SPAM_BURST, bucket.tokens + (now - bucket.at) / SPAM_REFILL_MS);
    bucket.at = now;
    const filtered = bucket.tokens < 1;
    if (!filtered) bucket.tokens -= 1;
    remember(this.spam, key, bucket);
    return filtered;
  }

  private create(event: KubeObject): KubeObject {
    return this.registry.create(EVENTS, event.metadata!.namespace, event, { manager: 'kubelet' });
  }

  /** The recorder's strategic-merge patch of count, lastTimestamp and message; a vanished Event is created again. */
  private update(event: KubeObject & Record<string, unknown>): KubeObject {
    const { count, lastTimestamp, message } = event;
    try {
      return this.registry.patch(
        EVENTS,
        event.metadata!.namespace,
        event.metadata!.name!,
        STRATEGIC_MERGE_PATCH,
        JSON.stringify({ count, lastTimestamp, message }),
        { manager: 'kubelet' },
      );
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 404) throw error;
      return this.create(event);
    }
  }
}

/** ref.GetReference: what involvedObject holds. */
const reference = (object: KubeObject) => {
  const type = findResourceByKind(object.apiVersion ?? '', object.kind ?? '');
  const meta = object.metadata ?? {};
  return {
    kind: object.kind ?? type?.kind ?? '',
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    uid: meta.uid ?? '',
    apiVersion: object.apiVersion ?? '',
    resourceVersion: meta.resourceVersion ?? '',
  };
};
