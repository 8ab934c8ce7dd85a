// Errors carried as the real API server's Status objects, with its status codes and wording.
import type { ResourceType } from './resources.ts';
import { qualifiedResource } from './resources.ts';

export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Forbidden'
  | 'Invalid'
  | 'BadRequest'
  | 'MethodNotAllowed'
  | 'Gone'
  | 'Expired'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Unauthorized'
  | 'UnsupportedMediaType'
  | 'Timeout'
  | 'TooManyRequests';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: StatusReason | '';
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

const details = (t: ResourceType, name?: string): StatusDetails => ({
  ...(name !== undefined ? { name } : {}),
  ...(t.group ? { group: t.group } : {}),
  kind: t.resource,
});

export const notFound = (t: ResourceType, name: string): ApiError =>
  new ApiError(404, 'NotFound', `${qualifiedResource(t)} "${name}" not found`, details(t, name));

export const alreadyExists = (t: ResourceType, name: string): ApiError =>
  new ApiError(409, 'AlreadyExists', `${qualifiedResource(t)} "${name}" already exists`, details(t, name));

export const staleConflict = (t: ResourceType, name: string): ApiError =>
  new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    details(t, name),
  );

export const forbidden = (
  t: ResourceType,
  verb: string,
  user: string,
  name: string | undefined,
  namespace: string | undefined,
  subresource?: string,
): ApiError => {
  const subject = name ? `${qualifiedResource(t)} "${name}"` : qualifiedResource(t);
  const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
  const resource = subresource ? `${t.resource}/${subresource}` : t.resource;
  return new ApiError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${t.group}" ${scope}`,
    details(t, name),
  );
};

/** 422 with one cause per invalid field, worded like apimachinery's field.ErrorList. */
export const invalid = (t: ResourceType, name: string, causes: StatusCause[]): ApiError =>
  new ApiError(
    422,
    'Invalid',
    `${t.kind}${t.group ? `.${t.group}` : ''} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
    { name, ...(t.group ? { group: t.group } : {}), kind: t.kind, causes },
  );

export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);

export const methodNotAllowed = (): ApiError =>
  new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
