import { FlannelctlError, OperationError, UsageError } from '../errors.ts';

interface StatusBody {
  readonly reason?: string;
  readonly message?: string;
}

const parseStatus = (body: unknown): StatusBody => {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return { message: body };
    }
  }
  return (body ?? {}) as StatusBody;
};

/** A Kubernetes API error with the HTTP status and the Status reason the server gave. */
export class KubeApiError extends OperationError {
  constructor(
    message: string,
    readonly status: number,
    readonly reason: string,
    hint?: string,
  ) {
    super(message, hint);
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  'EAI_AGAIN',
]);

/**
 * Turns client-node's ApiException and fetch/network errors into one clear line with the cause and the fix.
 * `what` says what we were doing, e.g. "apply configmap/kube-flannel-cfg".
 */
export const toKubeError = (error: unknown, what: string, server: string): FlannelctlError => {
  if (error instanceof FlannelctlError) return error;
  const e = error as { code?: unknown; body?: unknown; message?: string; cause?: { code?: string } };
  if (typeof e.code === 'number') {
    const status = parseStatus(e.body);
    const reason = status.reason ?? '';
    const message = status.message ?? e.message ?? 'unknown error';
    if (e.code === 401) {
      return new KubeApiError(
        `${what}: unauthorized (401) by ${server}: ${message}`,
        401,
        reason,
        'check the credentials of the kubeconfig user (token or client certificate may have expired)',
      );
    }
    if (e.code === 403) {
      return new KubeApiError(
        `${what}: forbidden (403): ${message}`,
        403,
        reason,
        'grant your user this permission, or run `flannelctl rbac` to see the minimal role this command needs',
      );
    }
    return new KubeApiError(`${what}: ${message} (${e.code}${reason ? ` ${reason}` : ''})`, e.code, reason);
  }
  const networkCode = [e.code, e.cause?.code].find(
    (c): c is string => typeof c === 'string' && NETWORK_CODES.has(c),
  );
  if (networkCode || /ECONNREFUSED|ENOTFOUND|socket hang up|fetch failed/.test(e.message ?? '')) {
    return new OperationError(
      `cannot reach the Kubernetes API at ${server} (${networkCode ?? e.message})`,
      'check that the cluster is running and that --kubeconfig/--context point at it',
    );
  }
  return new OperationError(`${what}: ${e.message ?? String(error)}`);
};

export const isNotFound = (error: unknown): boolean => (error as { code?: unknown }).code === 404;

export { UsageError };
