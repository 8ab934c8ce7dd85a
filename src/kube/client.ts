import type { KubeObject, ObjectRef } from './kube-object.ts';

export type PatchType = 'strategic' | 'merge';

export interface WriteOptions {
  /** Ask the server to validate and compute the result without storing it (dryRun=All). */
  readonly dryRun?: boolean;
}

export interface AccessCheck {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace?: string;
  /** The object's name: a role limited by resourceNames answers only for named checks. */
  readonly name?: string;
}

/** A command run in a pod's container through pods/exec, with `stdin` as its standard input. */
export interface PodExecRequest {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly command: readonly string[];
  readonly stdin?: string;
  /** Aborting closes the connection (the command may still finish in the container). */
  readonly signal?: AbortSignal;
}

export interface PodExecResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/**
 * The narrow Kubernetes port flannelctl uses. Every method maps API and network errors to a
 * FlannelctlError with a clear message (see api-errors.ts).
 */
export interface KubeClient {
  /** The API server URL, for messages. */
  readonly server: string;
  /** GET /version; proves the API is reachable. */
  serverVersion(): Promise<string>;
  get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined>;
  list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    options?: { namespace?: string; labelSelector?: string; fieldSelector?: string },
  ): Promise<T[]>;
  /** POST: creates the object; AlreadyExists is a KubeApiError with status 409. */
  create<T extends KubeObject = KubeObject>(object: KubeObject): Promise<T>;
  /** Server-side apply with a field manager. */
  apply<T extends KubeObject = KubeObject>(
    object: KubeObject,
    options: WriteOptions & { fieldManager: string; force?: boolean },
  ): Promise<T>;
  patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    body: unknown,
    type: PatchType,
    options?: WriteOptions,
  ): Promise<T>;
  replace<T extends KubeObject = KubeObject>(object: KubeObject, options?: WriteOptions): Promise<T>;
  delete(ref: ObjectRef, options?: WriteOptions): Promise<void>;
  /** SelfSubjectAccessReview: may the current user do this? */
  canI(check: AccessCheck): Promise<{ allowed: boolean; reason?: string }>;
  podLog(
    namespace: string,
    name: string,
    options?: { container?: string; tailLines?: number },
  ): Promise<string>;
  /** pods/exec over a WebSocket; a refused upgrade is a KubeApiError with its status (403, 404, …). */
  exec(request: PodExecRequest): Promise<PodExecResult>;
}
