// Failure injection: latency, 5xx, write conflicts, pods that never become Ready, and Forbidden.
import { ApiError } from './api-error.ts';

export interface RequestMatch {
  /** Exact method, e.g. 'PATCH' (case-insensitive). Omitted: any. */
  readonly method?: string;
  /** Tested against the path (no query). Omitted: any. */
  readonly path?: RegExp | string;
}

export interface FailureFault extends RequestMatch {
  /** 500 by default; 503, 504 and 429 are worded like the real server's. */
  readonly status?: number;
  /** How many matching requests fail; 1 by default, Infinity for all. */
  readonly count?: number;
  readonly message?: string;
}

export interface LatencyFault extends RequestMatch {
  readonly ms: number;
}

export interface ForbiddenRule {
  /** get, list, watch, create, update, patch, delete, deletecollection, or '*'. */
  readonly verb: string;
  /** Plural resource, with subresource as "pods/log"; '*' for all. */
  readonly resource: string;
  readonly namespace?: string;
}

export interface RequestInfo {
  readonly method: string;
  readonly path: string;
}

/** Runs just before a matching request is served, e.g. another writer's edit racing this one. */
export type BeforeHook = (request: RequestInfo & { readonly body: string }) => unknown;

const matches = (m: RequestMatch, r: RequestInfo): boolean =>
  (!m.method || m.method.toUpperCase() === r.method) &&
  (!m.path ||
    (typeof m.path === 'string' ? r.path === m.path || r.path.includes(m.path) : m.path.test(r.path)));

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class Faults {
  private latencies: LatencyFault[] = [];
  private failures: { fault: FailureFault; left: number }[] = [];
  private conflicts: { match: RequestMatch; left: number }[] = [];
  private readonly neverReadyNodes = new Set<string>();
  private forbidden: ForbiddenRule[] = [];
  private befores: { match: RequestMatch & { body?: RegExp }; hook: BeforeHook }[] = [];

  /** Every matching request waits `ms` before it is served. */
  addLatency(fault: LatencyFault): void {
    this.latencies.push(fault);
  }

  /** The next `count` matching requests fail with a 5xx (or the given status). */
  failNext(fault: FailureFault = {}): void {
    this.failures.push({ fault, left: fault.count ?? 1 });
  }

  /** The next matching write gets 409 Conflict, as if someone else wrote first. */
  conflictNext(match: RequestMatch = {}, count = 1): void {
    this.conflicts.push({ match, left: count });
  }

  /**
   * The next request matching (and whose body matches `match.body`) waits for `hook` first: a concurrent
   * writer placed at the exact step, so the request meets the real resourceVersion check (409).
   */
  beforeNext(match: RequestMatch & { body?: RegExp }, hook: BeforeHook): void {
    this.befores.push({ match, hook });
  }

  async runBefore(r: RequestInfo & { readonly body: string }): Promise<void> {
    const i = this.befores.findIndex(
      (b) => matches(b.match, r) && (!b.match.body || b.match.body.test(r.body)),
    );
    if (i < 0) return;
    const [before] = this.befores.splice(i, 1);
    await before!.hook(r);
  }

  /** Pods on this node run but never pass readiness. */
  neverReady(nodeName: string): void {
    this.neverReadyNodes.add(nodeName);
  }

  isNeverReady(nodeName: string): boolean {
    return this.neverReadyNodes.has(nodeName);
  }

  forbid(rule: ForbiddenRule): void {
    this.forbidden.push(rule);
  }

  isForbidden(verb: string, resource: string, namespace: string | undefined): boolean {
    return this.forbidden.some(
      (r) =>
        (r.verb === '*' || r.verb === verb) &&
        (r.resource === '*' || r.resource === resource) &&
        (r.namespace === undefined || r.namespace === namespace),
    );
  }

  clear(): void {
    this.latencies = [];
    this.failures = [];
    this.conflicts = [];
    this.forbidden = [];
    this.befores = [];
    this.neverReadyNodes.clear();
  }

  latencyFor(r: RequestInfo): number {
    return this.latencies.filter((l) => matches(l, r)).reduce((sum, l) => sum + l.ms, 0);
  }

  /** Consumes and returns the error an injected failure or conflict makes this request fail with. */
  takeFailure(r: RequestInfo): ApiError | undefined {
    const failure = this.failures.find((f) => f.left > 0 && matches(f.fault, r));
    if (failure) {
      failure.left--;
      return serverError(failure.fault.status ?? 500, failure.fault.message);
    }
    if (WRITES.has(r.method)) {
      const conflict = this.conflicts.find((c) => c.left > 0 && matches(c.match, r));
      if (conflict) {
        conflict.left--;
        return new ApiError(
          409,
          'Conflict',
          'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again',
        );
      }
    }
    return undefined;
  }
}

const serverError = (status: number, message: string | undefined): ApiError => {
  switch (status) {
    case 503:
      return new ApiError(
        503,
        'ServiceUnavailable',
        message ?? 'the server is currently unable to handle the request',
      );
    case 504:
      return new ApiError(
        504,
        'Timeout',
        message ??
          'the server was unable to return a response in the time allotted, but may still be processing the request',
      );
    case 429:
      return new ApiError(
        429,
        'TooManyRequests',
        message ?? 'the server has received too many requests and has asked us to try again later',
        { retryAfterSeconds: 1 },
      );
    default:
      return new ApiError(status, 'InternalError', message ?? 'Internal error occurred: injected fault');
  }
};
