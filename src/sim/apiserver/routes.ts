// The HTTP surface: URL and verb routing, discovery, tables, watch, logs, access reviews, faults,
// Status errors and the request log.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../cluster-seed.ts';
import { ApiError, badRequest, forbidden, methodNotAllowed } from './api-error.ts';
import type { Authorizer, ResourceAttributes as RbacAttributes } from './authorizer.ts';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.ts';
import type { Faults } from './faults.ts';
import type { PodLogs } from './pod-logs.ts';
import type { Registry } from './registry.ts';
import { parseJson } from './registry.ts';
import { checkNoEscalation } from './rbac-escalation.ts';
import type { RequestLog, RequestRecord } from './request-log.ts';
import type { ResourceType } from './resources.ts';
import { findResource, groupVersion } from './resources.ts';
import { openApiDocument, openApiIndex } from './openapi.ts';
import { PROTOBUF, decodeSelfSubjectAccessReview } from './protobuf.ts';
import { decodeObject } from './protobuf-objects.ts';
import { impersonate } from './impersonation.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { Store } from './store.ts';
import type { IncludeObject } from './table.ts';
import { toTable, wantsTable } from './table.ts';
import type { Identity, Users } from './users.ts';
import { serveWatch } from './watch.ts';

export interface HandlerContext {
  readonly store: Store;
  readonly registry: Registry;
  readonly faults: Faults;
  readonly log: RequestLog;
  readonly podLogs: PodLogs;
  /** Bearer tokens → users; the admin token is allowed everything. */
  readonly users: Users;
  readonly authorizer: Authorizer;
  serverAddress(): string;
  /** Open watch responses, ended when the server closes. */
  readonly watches: Set<ServerResponse>;
}

interface ResourceRoute {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** /api/v1/... or /apis/<group>/<version>/...: [namespaces/<ns>/]<resource>[/<name>[/<sub>]]. */
export const parseResourcePath = (path: string): ResourceRoute | undefined => {
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  let gv: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') {
    gv = 'v1';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    gv = `${parts[1]}/${parts[2]}`;
    rest = parts.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'status' && rest[2] !== 'finalize') {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length === 0 || rest.length > 3) return undefined;
  const type = findResource(gv, rest[0]!);
  if (!type) return undefined;
  if (namespace !== undefined && !type.namespaced) return undefined;
  const route: ResourceRoute = { type, ...(namespace !== undefined ? { namespace } : {}) };
  if (rest[1] !== undefined) route.name = rest[1];
  if (rest[2] !== undefined) {
    if (!type.subresources?.includes(rest[2])) return undefined;
    route.subresource = rest[2];
  }
  return route;
};

const verbOf = (method: string, route: ResourceRoute, watch: boolean): string => {
  switch (method) {
    case 'GET':
      return watch ? 'watch' : route.name ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return route.name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
};

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  res.end(text);
};

const notFoundPath = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource');

const listKind = (t: ResourceType) => ({ apiVersion: groupVersion(t), kind: `${t.kind}List` });

const boolParam = (q: URLSearchParams, key: string): boolean => q.get(key) === 'true' || q.get(key) === '1';

export const createHandler =
  (ctx: HandlerContext) =>
  async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const q = url.searchParams;
    const route = parseResourcePath(path);
    const watch = boolParam(q, 'watch');
    const record: RequestRecord = {
      method,
      path,
      query: url.search.replace(/^\?/, ''),
      contentType: req.headers['content-type']?.split(';')[0]?.trim(),
      userAgent: req.headers['user-agent'],
      status: 0,
      ...(route
        ? {
            verb: verbOf(method, route, watch),
            resource: route.subresource ? `${route.type.resource}/${route.subresource}` : route.type.resource,
            ...(route.namespace !== undefined ? { namespace: route.namespace } : {}),
            ...(route.name !== undefined ? { name: route.name } : {}),
          }
        : {}),
      dryRun: q.get('dryRun') === 'All',
    };
    ctx.log.add(record);
    const respond = (status: number, body: unknown) => {
      record.status = status;
      sendJson(res, status, body);
    };
    try {
      const raw =
        method === 'POST' || method === 'PUT' || method === 'PATCH' ? await readBody(req) : Buffer.alloc(0);
      const delay = ctx.faults.latencyFor({ method, path });
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      const requester = ctx.users.authenticate(req.headers.authorization);
      if (!requester) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      const identity = impersonate(
        requester,
        req.headers,
        (a) => requester.admin || ctx.authorizer.authorize(requester, a),
      );
      record.user = identity.name;
      await ctx.faults.runBefore({ method, path, body: raw.toString('utf8') });
      const injected = ctx.faults.takeFailure({ method, path });
      if (injected) throw injected;
      if (!route && path.startsWith('/openapi/v3/')) {
        const doc = openApiDocument(path.slice('/openapi/v3/'.length));
        if (!doc) throw notFoundPath();
        record.status = 200;
        res.writeHead(200, {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(doc),
          'Cache-Control': 'public, immutable',
        });
        res.end(doc);
        return;
      }
      if (!route) return respond(200, discovery(ctx, method, path));
      await serveResource(ctx, req, res, route, record, raw, respond, identity);
    } catch (error) {
      const apiError =
        error instanceof ApiError
          ? error
          : new ApiError(
              500,
              'InternalError',
              `Internal error occurred: ${error instanceof Error ? error.message : String(error)}`,
            );
      if (res.headersSent) {
        res.end();
        return;
      }
      respond(apiError.code, apiError.toStatus());
    }
  };

const DISCOVERY_PATHS =
  /^\/(version|api|apis|openapi\/v3|healthz|livez|readyz|api\/v1|apis\/[^/]+(\/[^/]+)?)$/;

const discovery = (ctx: HandlerContext, method: string, path: string): unknown => {
  const trimmed = path.replace(/\/+$/, '') || '/';
  // A write to a resource this server does not serve is a 404, as for `kubectl create deployment` on
  // a server without apps/v1 deployments; only the discovery documents themselves are GET-only.
  if (method !== 'GET') throw DISCOVERY_PATHS.test(trimmed) ? methodNotAllowed() : notFoundPath();
  if (trimmed === '/version') return versionInfo();
  if (trimmed === '/api') return apiVersions(ctx.serverAddress());
  if (trimmed === '/apis') return apiGroupList();
  if (trimmed === '/openapi/v3') return openApiIndex();
  if (['/healthz', '/livez', '/readyz'].includes(trimmed)) return 'ok';
  const gvList = /^\/api\/(v1)$/.exec(trimmed) ?? /^\/apis\/([^/]+\/[^/]+)$/.exec(trimmed);
  if (gvList) {
    const doc = apiResourceList(gvList[1]!);
    if (doc) return doc;
  }
  const group = /^\/apis\/([^/]+)$/.exec(trimmed);
  if (group) {
    const doc = apiGroup(group[1]!);
    if (doc) return doc;
  }
  throw notFoundPath();
};

const serveResource = async (
  ctx: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: ResourceRoute,
  record: RequestRecord,
  raw: Buffer,
  respond: (status: number, body: unknown) => void,
  identity: Identity,
): Promise<void> => {
  const { type: t, namespace, name, subresource } = route;
  const protobuf = record.contentType === PROTOBUF;
  // A typed client's protobuf object arrives as the JSON the registry takes (reviews are read apart).
  const body = !protobuf
    ? raw.toString('utf8')
    : t.virtual || raw.length === 0
      ? ''
      : JSON.stringify(decodeObject(raw));
  const q = new URL(req.url ?? '/', 'http://emulator').searchParams;
  const verb = record.verb!;
  // pods/exec is served on the WebSocket upgrade (pod-exec.ts); a plain request is refused like the real server does.
  if (subresource === 'exec') throw badRequest('Upgrade request required');
  if (!t.verbs.includes(verb) && !(subresource && ['get', 'update', 'patch'].includes(verb)))
    throw methodNotAllowed();
  // RequestInfo puts a namespace's own name in the namespace attribute, so a RoleBinding can grant it.
  const attrs: RbacAttributes = {
    verb,
    group: t.group,
    resource: t.resource,
    ...(subresource ? { subresource } : {}),
    ...(namespace !== undefined
      ? { namespace }
      : t.resource === 'namespaces' && name
        ? { namespace: name }
        : {}),
    ...(name !== undefined ? { name } : {}),
  };
  const allowed = (a: RbacAttributes) => identity.admin || ctx.authorizer.authorize(identity, a);
  const deny = (a: RbacAttributes) => forbidden(t, a.verb, identity.name, name, a.namespace, subresource);
  if (!allowed(attrs)) throw deny(attrs);
  if (ctx.faults.isForbidden(verb, record.resource!, namespace)) throw deny(attrs);
  const dryRunParam = q.get('dryRun');
  if (dryRunParam !== null && dryRunParam !== 'All')
    throw badRequest(`Invalid value: "${dryRunParam}": supported values: "All"`);
  const dryRun = dryRunParam === 'All';
  const manager = q.get('fieldManager') ?? defaultManager(req.headers['user-agent']);
  const writeOptions = { manager, dryRun, ...(subresource ? { subresource } : {}) };

  if (t.virtual) {
    if (verb !== 'create') throw methodNotAllowed();
    const review = protobuf ? decodeSelfSubjectAccessReview(raw) : (parseJson(body) as KubeObject);
    return respond(201, accessReview(ctx, review, identity));
  }
  const selectors = () => ({
    labelSelector: parseLabelSelector(q.get('labelSelector')),
    fieldSelector: parseFieldSelector(q.get('fieldSelector'), t.resource, t.kind),
  });
  const table = wantsTable(req.headers.accept);
  const escalationChecked = !identity.admin && t.group === 'rbac.authorization.k8s.io';
  const include = (q.get('includeObject') as IncludeObject | null) ?? 'Metadata';

  switch (verb) {
    case 'get': {
      const obj = ctx.registry.get(t, namespace, name!);
      if (subresource === 'log') {
        const tail = q.get('tailLines');
        const text = ctx.podLogs.read(
          obj,
          q.get('container') ?? undefined,
          tail !== null ? Number(tail) : undefined,
        );
        record.status = 200;
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      return respond(200, table ? toTable(t, [obj], obj.metadata!.resourceVersion!, include) : obj);
    }
    case 'list': {
      const items = ctx.registry.list(t, namespace, selectors());
      const rv = ctx.store.resourceVersion;
      return respond(
        200,
        table ? toTable(t, items, rv, include) : { ...listKind(t), metadata: { resourceVersion: rv }, items },
      );
    }
    case 'watch': {
      const sel = selectors();
      const timeout = q.get('timeoutSeconds');
      record.status = 200;
      ctx.watches.add(res);
      serveWatch(
        ctx.store,
        ctx.registry,
        {
          type: t,
          namespace,
          ...sel,
          resourceVersion: q.get('resourceVersion') ?? undefined,
          timeoutSeconds: timeout !== null ? Number(timeout) : undefined,
          sendInitialEvents: boolParam(q, 'sendInitialEvents'),
          allowBookmarks: boolParam(q, 'allowWatchBookmarks'),
        },
        res,
        () => ctx.watches.delete(res),
      );
      return;
    }
    case 'create': {
      const obj = parseJson(body) as KubeObject;
      if (escalationChecked) checkNoEscalation(ctx.authorizer, identity, t, namespace, obj);
      return respond(201, ctx.registry.create(t, namespace, obj, writeOptions));
    }
    case 'update': {
      const obj = parseJson(body) as KubeObject;
      if (escalationChecked) checkNoEscalation(ctx.authorizer, identity, t, namespace, obj);
      return respond(200, ctx.registry.update(t, namespace, name!, obj, writeOptions));
    }
    case 'patch': {
      const contentType = req.headers['content-type']?.split(';')[0]?.trim() ?? '';
      const existed = ctx.store.get(t, t.namespaced ? namespace : undefined, name!) !== undefined;
      // A server-side apply that creates the object is also authorized as `create` of that name
      // (apiserver handlers/patch.go, createAuthorizerAttributes).
      const creates = !existed && contentType === 'application/apply-patch+yaml';
      if (creates && !allowed({ ...attrs, verb: 'create' })) throw deny({ ...attrs, verb: 'create' });
      const force = q.get('force');
      const patchOptions = {
        ...writeOptions,
        manager: q.get('fieldManager') ?? (contentType === 'application/apply-patch+yaml' ? '' : manager),
        ...(force !== null ? { force: force === 'true' } : {}),
      };
      if (escalationChecked) {
        const result = ctx.registry.patch(t, namespace, name!, contentType, body, {
          ...patchOptions,
          dryRun: true,
        });
        checkNoEscalation(ctx.authorizer, identity, t, namespace, result);
      }
      const obj = ctx.registry.patch(t, namespace, name!, contentType, body, patchOptions);
      return respond(existed ? 200 : 201, obj);
    }
    case 'delete':
      return respond(200, ctx.registry.delete(t, namespace, name!, { dryRun }));
    case 'deletecollection': {
      const items = ctx.registry.list(t, namespace, selectors());
      for (const o of items) ctx.registry.delete(t, o.metadata?.namespace, o.metadata!.name!, { dryRun });
      return respond(200, {
        ...listKind(t),
        metadata: { resourceVersion: ctx.store.resourceVersion },
        items,
      });
    }
    default:
      throw methodNotAllowed();
  }
};

/** The real server names an unnamed manager after the client's User-Agent program name. */
const defaultManager = (userAgent: string | undefined): string => {
  const program = userAgent?.split('/')[0]?.trim();
  return program && program.length > 0 ? program.slice(0, 128) : 'unknown';
};

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

/** The caller's RBAC (the admin holds everything) minus what a Forbidden fault denies, so `auth can-i` matches the 403s. */
const accessReview = (ctx: HandlerContext, review: KubeObject, identity: Identity): KubeObject => {
  const spec = (review.spec ?? {}) as {
    resourceAttributes?: ResourceAttributes;
    nonResourceAttributes?: unknown;
  };
  const attrs = spec.resourceAttributes;
  let allowed = true;
  if (attrs) {
    const resource = attrs.subresource
      ? `${attrs.resource ?? ''}/${attrs.subresource}`
      : (attrs.resource ?? '');
    allowed =
      !ctx.faults.isForbidden(attrs.verb ?? '', resource, attrs.namespace || undefined) &&
      (identity.admin ||
        ctx.authorizer.authorize(identity, {
          verb: attrs.verb ?? '',
          group: attrs.group ?? '',
          resource: attrs.resource ?? '',
          ...(attrs.subresource ? { subresource: attrs.subresource } : {}),
          ...(attrs.namespace ? { namespace: attrs.namespace } : {}),
          ...(attrs.name ? { name: attrs.name } : {}),
        }));
  }
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null as unknown as string },
    spec,
    // RBAC denies without a reason; kubectl then prints a bare "no".
    status: { allowed },
  };
};
