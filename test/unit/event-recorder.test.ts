// The emulator's event recorder against client-go's (tools/record events_cache.go): the same event is
// one Event with a growing count, events differing only by message are aggregated from the tenth on,
// and a source's burst per object is capped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventRecorder } from '../../src/sim/apiserver/event-recorder.ts';
import { Registry } from '../../src/sim/apiserver/registry.ts';
import { resourceByName } from '../../src/sim/apiserver/resources.ts';
import { seedCluster } from '../../src/sim/apiserver/seed.ts';
import { Store } from '../../src/sim/apiserver/store.ts';
import type { KubeObject } from '../../src/sim/cluster-seed.ts';

const EVENTS = resourceByName('events');

const setup = () => {
  const registry = new Registry(new Store());
  seedCluster(registry, { nodes: [] });
  const pod = registry.create(
    resourceByName('pods'),
    'default',
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-0' },
      spec: { nodeName: 'node-2', containers: [{ name: 'main', image: 'x' }] },
    },
    { manager: 'test' },
  );
  let clock = Date.parse('2026-12-03T10:00:00Z');
  const recorder = new EventRecorder(registry, { clock: () => clock });
  const events = () =>
    registry.list(EVENTS, 'default') as (KubeObject & {
      count: number;
      message: string;
      firstTimestamp: string;
      lastTimestamp: string;
    })[];
  return {
    pod,
    recorder,
    events,
    tick: (ms: number) => (clock += ms),
  };
};

const kubelet = { component: 'kubelet', host: 'node-2' };
const failed = (sandbox: string) => ({
  type: 'Warning' as const,
  reason: 'FailedCreatePodSandBox',
  message: `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "${sandbox}": boom`,
});

test('the same event three times is one Event counted three times, first seen kept', () => {
  const { pod, recorder, events, tick } = setup();
  for (let i = 0; i < 3; i++) {
    recorder.record(kubelet, pod, failed('a'));
    tick(10_000);
  }
  const [event, ...rest] = events();
  assert.deepEqual(rest, []);
  assert.equal(event!.count, 3);
  assert.equal(event!.firstTimestamp, '2026-12-03T10:00:00Z');
  assert.equal(event!.lastTimestamp, '2026-12-03T10:00:20Z');
  assert.match(event!.metadata!.name!, /^web-0\.[0-9a-f]+$/);
  assert.deepEqual((event as unknown as Record<string, unknown>).involvedObject, {
    kind: 'Pod',
    namespace: 'default',
    name: 'web-0',
    uid: pod.metadata!.uid,
    apiVersion: 'v1',
    resourceVersion: pod.metadata!.resourceVersion,
  });
  assert.deepEqual((event as unknown as Record<string, unknown>).source, kubelet);
  assert.equal((event as unknown as Record<string, unknown>).reportingInstance, 'node-2');
});

test('messages that differ (a new sandbox each try): nine Events, then one combined Event counts on', () => {
  const { pod, recorder, events, tick } = setup();
  for (let i = 1; i <= 12; i++) {
    recorder.record(kubelet, pod, failed(`sandbox-${i}`));
    tick(10_000);
  }
  const all = events();
  assert.equal(all.length, 10);
  const combined = all.filter((e) => e.message.startsWith('(combined from similar events): '));
  assert.equal(combined.length, 1);
  assert.equal(combined[0]!.count, 3);
  assert.match(combined[0]!.message, /sandbox "sandbox-12"/, 'the latest message');
  assert.ok(all.filter((e) => e !== combined[0]).every((e) => e.count === 1));
});

test('a source may burst 25 events about one object, then one per 5 minutes', () => {
  const { pod, recorder, events, tick } = setup();
  for (let i = 0; i < 30; i++) {
    recorder.record(kubelet, pod, failed('a'));
    tick(1000);
  }
  assert.equal(events()[0]!.count, 25);
  tick(300_000);
  recorder.record(kubelet, pod, failed('a'));
  // The correlator counted the filtered ones too (it observes before it filters).
  assert.equal(events()[0]!.count, 31);
});
