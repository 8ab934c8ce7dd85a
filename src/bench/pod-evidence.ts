// What a bench pod that cannot do its job says about itself: the tail of its log and its latest
// Events, quoted under the error so the user needs no `kubectl describe` to see the cause. Both are
// read best-effort: a run without pods/log or events access still gets the error itself.
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/kube-object.ts';

const LOG_LINES = 5;
const EVENTS = 4;

interface PodEvent extends KubeObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string | null;
  eventTime?: string | null;
}

/** The pod's log, its last lines only; '' when there is none or it cannot be read. */
export const logTail = async (kube: KubeClient, namespace: string, name: string): Promise<string> => {
  try {
    const log = await kube.podLog(namespace, name, { tailLines: LOG_LINES });
    return log.trimEnd().split('\n').slice(-LOG_LINES).join('\n');
  } catch {
    return '';
  }
};

/** The pod's latest Events, oldest first, as `Reason: message (×count)` lines. */
export const recentEvents = async (kube: KubeClient, namespace: string, name: string): Promise<string[]> => {
  let events: PodEvent[];
  try {
    events = await kube.list<PodEvent>('v1', 'Event', {
      namespace,
      fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${name}`,
    });
  } catch {
    return [];
  }
  const at = (e: PodEvent) => e.lastTimestamp ?? e.eventTime ?? '';
  return events
    .sort((a, b) => at(a).localeCompare(at(b)))
    .slice(-EVENTS)
    .map((e) => `${e.reason ?? '?'}: ${e.message ?? ''}${(e.count ?? 1) > 1 ? ` (×${e.count})` : ''}`);
};

const indent = (text: string): string => text.replace(/\n/g, '\n    ');

/** The log tail and events as indented lines under an error message. */
export const podEvidence = async (
  kube: KubeClient,
  namespace: string,
  name: string,
  options: { log?: boolean } = {},
): Promise<string> => {
  const [log, events] = await Promise.all([
    options.log === false ? Promise.resolve(undefined) : logTail(kube, namespace, name),
    recentEvents(kube, namespace, name),
  ]);
  const lines: string[] = [];
  if (log !== undefined) lines.push(`  log:${log ? indent(`\n${log}`) : ' (no output)'}`);
  if (events.length > 0) lines.push(`  events:${indent(`\n${events.join('\n')}`)}`);
  return lines.length > 0 ? `\n${lines.join('\n')}` : '';
};
