// Every request the emulator served, for assertions like "--dry-run made no write requests".

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  /** The raw query string without '?', '' when none. */
  readonly query: string;
  readonly contentType: string | undefined;
  readonly userAgent: string | undefined;
  /** The authenticated user's name; unset when authentication failed. */
  user?: string;
  /** Set when the response is sent; watches record 200 when they start. */
  status: number;
  /** Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection; undefined for discovery. */
  readonly verb?: string;
  readonly resource?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly dryRun: boolean;
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export class RequestLog {
  readonly records: RequestRecord[] = [];

  add(record: RequestRecord): void {
    this.records.push(record);
  }

  /** Requests that would change something (dry-run requests excluded). */
  writes(): RequestRecord[] {
    return this.records.filter(
      (r) =>
        r.verb !== undefined &&
        WRITE_VERBS.has(r.verb) &&
        !r.dryRun &&
        r.resource !== 'selfsubjectaccessreviews',
    );
  }

  clear(): void {
    this.records.length = 0;
  }
}
