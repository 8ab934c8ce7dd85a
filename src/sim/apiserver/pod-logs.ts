// What pods "printed": lines appended by emulators, served by pods/log.
import type { KubeObject } from '../cluster-seed.ts';
import { badRequest } from './api-error.ts';

export class PodLogs {
  private readonly logs = new Map<string, Map<string, string[]>>();

  append(uid: string, container: string, text: string): void {
    let byContainer = this.logs.get(uid);
    if (!byContainer) this.logs.set(uid, (byContainer = new Map()));
    let lines = byContainer.get(container);
    if (!lines) byContainer.set(container, (lines = []));
    const parts = text.split('\n');
    if (parts[parts.length - 1] === '') parts.pop();
    lines.push(...parts);
  }

  forget(uid: string): void {
    this.logs.delete(uid);
  }

  /** The log text as the real server returns it, with its error when the container is ambiguous. */
  read(pod: KubeObject, container: string | undefined, tailLines: number | undefined): string {
    const containers = ((pod.spec as { containers?: { name: string }[] } | undefined)?.containers ?? []).map(
      (c) => c.name,
    );
    const initContainers = (
      (pod.spec as { initContainers?: { name: string }[] } | undefined)?.initContainers ?? []
    ).map((c) => c.name);
    const name = pod.metadata!.name!;
    if (!container) {
      if (containers.length !== 1) {
        throw badRequest(
          `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]${initContainers.length ? ` or one of the init containers: [${initContainers.join(' ')}]` : ''}`,
        );
      }
      container = containers[0]!;
    } else if (!containers.includes(container) && !initContainers.includes(container)) {
      throw badRequest(`container ${container} is not valid for pod ${name}`);
    }
    let lines = this.logs.get(pod.metadata!.uid!)?.get(container) ?? [];
    if (tailLines !== undefined && tailLines >= 0) lines = tailLines === 0 ? [] : lines.slice(-tailLines);
    return lines.map((l) => `${l}\n`).join('');
  }
}
