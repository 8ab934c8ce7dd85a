// What happens to an object on each verb, independent of HTTP: identity, resourceVersion,
// generation, defaulting, validation, status subresource, managedFields, cascading deletes.
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../cluster-seed.ts';
import { ApiError, alreadyExists, badRequest, notFound, staleConflict } from './api-error.ts';
import { serverSideApply } from './apply.ts';
import { applyDefaults } from './defaults.ts';
import { now, recordUpdate } from './managed-fields.ts';
import {
  APPLY_PATCH,
  JSON_PATCH,
  MERGE_PATCH,
  STRATEGIC_MERGE_PATCH,
  applyJsonPatch,
  mergePatch,
  strategicMergePatch,
} from './patch.ts';
import type { ResourceType } from './resources.ts';
import { RESOURCE_TYPES, groupVersion, resourceByName } from './resources.ts';
import { clone, isPlainObject, jsonEqual } from './schema.ts';
import type { FieldSelector, LabelSelector } from './selectors.ts';
import { matchesFields, matchesLabels, pinnedField } from './selectors.ts';
import type { Store } from './store.ts';
import { validateObject } from './validation.ts';

export interface WriteOptions {
  /** Field manager; the HTTP layer defaults it from the User-Agent like the real server. */
  readonly manager?: string;
  readonly dryRun?: boolean;
  /** 'status' for writes to the status subresource. */
  readonly subresource?: string;
}

export interface PatchOptions extends WriteOptions {
  readonly force?: boolean;
}

export interface ListOptions {
  readonly labelSelector?: LabelSelector;
  readonly fieldSelector?: FieldSelector;
}

const NAMESPACES = resourceByName('namespaces');
const RANDOM_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Five characters from the alphabet the real server uses for generateName suffixes. */
export const randomSuffix = (length = 5): string => {
  let s = '';
  for (let i = 0; i < length; i++) s += RANDOM_ALPHABET[Math.floor(Math.random() * RANDOM_ALPHABET.length)];
  return s;
};

const hasStatusSubresource = (t: ResourceType): boolean => t.subresources?.includes('status') ?? false;
/** The real server answers DELETE of these with the object, of the rest with a Success Status. */
const RETURNS_DELETED_OBJECT = new Set(['pods', 'daemonsets', 'namespaces', 'nodes']);

export class Registry {
  constructor(readonly store: Store) {}

  get(t: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const obj = this.store.get(t, t.namespaced ? namespace : undefined, name);
    if (!obj) throw notFound(t, name);
    return obj;
  }

  list(t: ResourceType, namespace: string | undefined, options: ListOptions = {}): KubeObject[] {
    const labels = options.labelSelector ?? [];
    const fields = options.fieldSelector ?? [];
    const name = pinnedField(fields, 'metadata.name');
    const ns =
      (t.namespaced ? namespace : undefined) ??
      (t.namespaced ? pinnedField(fields, 'metadata.namespace') : undefined);
    let candidates: KubeObject[];
    if (name !== undefined && ns !== undefined) {
      const one = this.store.get(t, ns, name);
      candidates = one ? [one] : [];
    } else candidates = this.store.list(t, ns);
    return candidates.filter((o) => matchesLabels(labels, o.metadata?.labels) && matchesFields(fields, o));
  }

  create(
    t: ResourceType,
    namespace: string | undefined,
    body: KubeObject,
    options: WriteOptions = {},
  ): KubeObject {
    const obj = this.prepareCreate(t, namespace, body);
    obj.metadata!.managedFields = recordUpdate(undefined, obj, {
      manager: options.manager ?? 'unknown',
      apiVersion: groupVersion(t),
    });
    return this.finishCreate(t, obj, options);
  }

  private prepareCreate(t: ResourceType, namespace: string | undefined, body: KubeObject): KubeObject {
    checkTypeMeta(t, body);
    const obj = clone(body);
    obj.apiVersion = groupVersion(t);
    obj.kind = t.kind;
    const meta = (obj.metadata ??= {});
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    if (!meta.name) {
      throw new ApiError(
        422,
        'Invalid',
        `${t.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
        {
          kind: t.kind,
          causes: [
            {
              reason: 'FieldValueRequired',
              message: 'Required value: name or generateName is required',
              field: 'metadata.name',
            },
          ],
        },
      );
    }
    if (t.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      meta.namespace = namespace ?? meta.namespace ?? 'default';
      if (!this.store.get(NAMESPACES, undefined, meta.namespace)) throw notFound(NAMESPACES, meta.namespace);
    } else delete meta.namespace;
    if (this.store.get(t, meta.namespace, meta.name)) throw alreadyExists(t, meta.name);
    meta.uid = randomUUID();
    meta.creationTimestamp = now();
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    if (t.hasGeneration) meta.generation = 1;
    else delete meta.generation;
    if (hasStatusSubresource(t) && t.resource !== 'nodes') delete obj.status;
    applyDefaults(t, obj);
    validateObject(t, obj, undefined);
    return obj;
  }

  private finishCreate(t: ResourceType, obj: KubeObject, options: WriteOptions): KubeObject {
    if (options.dryRun) return obj;
    obj.metadata!.resourceVersion = this.store.nextResourceVersion();
    this.store.put(t, obj, 'ADDED');
    return obj;
  }

  /** PUT: a stale metadata.resourceVersion is a 409 Conflict, as optimistic concurrency demands. */
  update(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    body: KubeObject,
    options: WriteOptions = {},
  ): KubeObject {
    checkTypeMeta(t, body);
    if (body.metadata?.name !== undefined && body.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    if (t.namespaced && body.metadata?.namespace && body.metadata.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const old = this.get(t, namespace, name);
    const rv = body.metadata?.resourceVersion;
    if (rv && rv !== old.metadata!.resourceVersion) throw staleConflict(t, name);
    return this.commit(t, old, clone(body), options);
  }

  patch(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    contentType: string,
    rawBody: string,
    options: PatchOptions = {},
  ): KubeObject {
    if (contentType === APPLY_PATCH) return this.apply(t, namespace, name, rawBody, options);
    if (options.force !== undefined) {
      throw new ApiError(
        422,
        'Invalid',
        'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
      );
    }
    const patch = parseJson(rawBody);
    const old = this.get(t, namespace, name);
    let next: KubeObject;
    if (contentType === MERGE_PATCH) next = mergePatch(old, patch) as KubeObject;
    else if (contentType === STRATEGIC_MERGE_PATCH) next = strategicMergePatch(old, patch) as KubeObject;
    else if (contentType === JSON_PATCH) next = applyJsonPatch(old, patch);
    else {
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      );
    }
    const rv = next.metadata?.resourceVersion;
    if (rv && rv !== old.metadata!.resourceVersion) throw staleConflict(t, name);
    if (next.metadata?.name !== name)
      throw badRequest(`metadata.name: Invalid value: "${String(next.metadata?.name)}": field is immutable`);
    return this.commit(t, old, next, options);
  }

  private apply(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    rawBody: string,
    options: PatchOptions,
  ): KubeObject {
    if (!options.manager) {
      throw new ApiError(
        422,
        'Invalid',
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        {
          group: 'meta.k8s.io',
          kind: 'PatchOptions',
          causes: [
            {
              reason: 'FieldValueRequired',
              message: 'Required value: is required for apply patch',
              field: 'fieldManager',
            },
          ],
        },
      );
    }
    let applied: KubeObject;
    try {
      applied = parseYaml(rawBody) as KubeObject;
    } catch (error) {
      throw badRequest(`error decoding YAML: ${(error as Error).message}`);
    }
    if (!isPlainObject(applied)) throw badRequest('apply patch must be an object');
    checkTypeMeta(t, applied, true);
    if (applied.metadata?.name !== undefined && applied.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    const live = this.store.get(t, t.namespaced ? namespace : undefined, name);
    const result = serverSideApply({
      live,
      applied,
      manager: options.manager,
      force: options.force ?? false,
      apiVersion: groupVersion(t),
    });
    if (!result.changed) return live!;
    if (!live) {
      const managedFields = result.object.metadata?.managedFields;
      const obj = this.prepareCreate(t, namespace, {
        ...result.object,
        metadata: { ...result.object.metadata, name },
      });
      obj.metadata!.managedFields = managedFields;
      return this.finishCreate(t, obj, options);
    }
    return this.commit(t, live, result.object, { ...options, keepManagedFields: true });
  }

  /** The tail shared by PUT and every PATCH: a write that changes nothing stores nothing. */
  private commit(
    t: ResourceType,
    old: KubeObject,
    next: KubeObject,
    options: WriteOptions & { keepManagedFields?: boolean },
  ): KubeObject {
    const oldMeta = old.metadata!;
    next.apiVersion = groupVersion(t);
    next.kind = t.kind;
    const meta = (next.metadata = { ...next.metadata });
    meta.name = oldMeta.name;
    if (t.namespaced) meta.namespace = oldMeta.namespace;
    meta.uid = oldMeta.uid;
    meta.creationTimestamp = oldMeta.creationTimestamp;
    meta.resourceVersion = oldMeta.resourceVersion;
    if (oldMeta.generation !== undefined) meta.generation = oldMeta.generation;
    else delete meta.generation;
    if (oldMeta.deletionTimestamp) meta.deletionTimestamp = oldMeta.deletionTimestamp;
    if (hasStatusSubresource(t)) {
      if (options.subresource === 'status') {
        const status = next.status;
        // nodeStatusStrategy resets only spec: flanneld writes its annotations through nodes/status.
        const metadata = t.resource === 'nodes' ? next.metadata : undefined;
        next = { ...clone(old), status, ...(metadata ? { metadata } : {}) };
      } else if (old.status !== undefined) next.status = old.status;
      else delete next.status;
    }
    applyDefaults(t, next);
    validateObject(t, next, old);
    if (!options.keepManagedFields) {
      next.metadata!.managedFields = recordUpdate(old, next, {
        manager: options.manager ?? 'unknown',
        apiVersion: groupVersion(t),
        ...(options.subresource ? { subresource: options.subresource } : {}),
      });
    }
    if (jsonEqual(old, next)) return old;
    if (t.hasGeneration && !jsonEqual(old.spec, next.spec))
      next.metadata!.generation = (oldMeta.generation ?? 0) + 1;
    if (options.dryRun) return next;
    next.metadata!.resourceVersion = this.store.nextResourceVersion();
    this.store.put(t, next, 'MODIFIED');
    return next;
  }

  /** A controller's status write (the status subresource), skipped when nothing changed. */
  writeStatus(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    status: unknown,
    manager: string,
  ): KubeObject {
    const old = this.get(t, namespace, name);
    return this.commit(t, old, { ...old, status }, { manager, subresource: 'status' });
  }

  /** Deletes now (no graceful period); dependents and a namespace's contents go with it. */
  delete(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    options: { dryRun?: boolean } = {},
  ): KubeObject | Record<string, unknown> {
    const existing = this.get(t, namespace, name);
    if (options.dryRun) return existing;
    if (t.resource === 'namespaces') {
      for (const other of RESOURCE_TYPES) {
        if (!other.namespaced || other.virtual) continue;
        for (const obj of this.store.list(other, name)) this.store.remove(other, name, obj.metadata!.name!);
      }
    }
    const gone = this.store.remove(t, t.namespaced ? namespace : undefined, name)!;
    this.collectDependents(existing);
    if (RETURNS_DELETED_OBJECT.has(t.resource)) return gone;
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: {
        name,
        ...(t.group ? { group: t.group } : {}),
        kind: t.resource,
        uid: existing.metadata!.uid,
      },
    };
  }

  /** Background garbage collection: objects owned by a deleted object are deleted too. */
  private collectDependents(owner: KubeObject): void {
    const uid = owner.metadata?.uid;
    const ns = owner.metadata?.namespace;
    if (!uid || ns === undefined) return;
    for (const t of RESOURCE_TYPES) {
      if (!t.namespaced || t.virtual) continue;
      for (const obj of this.store.list(t, ns)) {
        if (obj.metadata?.ownerReferences?.some((r) => r.uid === uid)) {
          const gone = this.store.remove(t, ns, obj.metadata.name!);
          if (gone) this.collectDependents(obj);
        }
      }
    }
  }
}

const checkTypeMeta = (t: ResourceType, body: KubeObject, required = false): void => {
  if (!isPlainObject(body)) throw badRequest('the body of the request must be a JSON object');
  const expected = groupVersion(t);
  if ((body.apiVersion !== undefined || required) && body.apiVersion !== expected) {
    throw badRequest(
      `the API version in the data (${String(body.apiVersion ?? '')}) does not match the expected API version (${expected})`,
    );
  }
  if ((body.kind !== undefined || required) && body.kind !== t.kind) {
    throw badRequest(
      `the kind in the data (${String(body.kind ?? '')}) does not match the expected kind (${t.kind})`,
    );
  }
};

export const parseJson = (raw: string): unknown => {
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
};
