// The three PATCH flavours the API server accepts. Server-side apply is in apply.ts.
import jsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import type { KubeObject } from '../cluster-seed.ts';
import { ApiError, badRequest } from './api-error.ts';
import { clone, isPlainObject, listStrategy } from './schema.ts';

export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

/** RFC 7386: objects merge, null deletes, everything else (lists included) replaces. */
export const mergePatch = (target: unknown, patch: unknown): unknown => {
  if (!isPlainObject(patch)) return clone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
};

/** RFC 6902 via fast-json-patch; failures are the 422 the real server answers. */
export const applyJsonPatch = (target: KubeObject, ops: unknown): KubeObject => {
  if (!Array.isArray(ops))
    throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  try {
    return jsonPatch.applyPatch(clone(target), ops as Operation[], true, false).newDocument;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ApiError(
      422,
      'Invalid',
      `the server rejected our request due to an error in our request: ${message}`,
    );
  }
};

/**
 * Kubernetes strategic merge patch, for the fields flannelctl and kubectl touch: keyed lists merge by
 * their patchMergeKey, atomic lists replace, `$patch: replace|delete` and kubectl's
 * `$setElementOrder`/`$deleteFromPrimitiveList`/`$retainKeys` directives are understood.
 */
export const strategicMergePatch = (target: unknown, patch: unknown, path: string[] = []): unknown => {
  if (!isPlainObject(patch)) return clone(patch);
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  const base: Record<string, unknown> =
    directive === 'replace' || !isPlainObject(target) ? {} : { ...target };
  const retainKeys = Array.isArray(patch.$retainKeys) ? new Set(patch.$retainKeys as string[]) : undefined;
  if (retainKeys) for (const k of Object.keys(base)) if (!retainKeys.has(k) && !(k in patch)) delete base[k];
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const remove = new Set((value as unknown[]).map((v) => JSON.stringify(v)));
      const list = base[field];
      if (Array.isArray(list)) base[field] = list.filter((v) => !remove.has(JSON.stringify(v)));
      continue;
    }
    if (value === null) {
      delete base[key];
      continue;
    }
    const childPath = [...path, key];
    if (Array.isArray(value)) {
      base[key] = mergeList(base[key], value, childPath);
    } else if (isPlainObject(value)) {
      const merged = strategicMergePatch(base[key], value, childPath);
      if (merged === undefined) delete base[key];
      else base[key] = merged;
    } else base[key] = value;
  }
  return base;
};

const mergeList = (target: unknown, patch: unknown[], path: string[]): unknown[] => {
  const strategy = listStrategy(path, patch);
  const current = Array.isArray(target) ? target : [];
  if (patch.some((item) => isPlainObject(item) && item.$patch === 'replace')) {
    return patch.filter((item) => !(isPlainObject(item) && item.$patch === 'replace')).map((v) => clone(v));
  }
  if (strategy.kind === 'set') {
    const seen = new Set(current.map((v) => JSON.stringify(v)));
    return [...current, ...patch.filter((v) => !seen.has(JSON.stringify(v)))];
  }
  if (strategy.kind !== 'map') return clone(patch);
  const result = current.map((v) => clone(v));
  for (const item of patch) {
    if (!isPlainObject(item)) continue;
    const keyValue = item[strategy.key];
    const index = result.findIndex((r) => isPlainObject(r) && r[strategy.key] === keyValue);
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = strategicMergePatch(result[index], item, path);
    } else {
      result.push(strategicMergePatch({}, item, path));
    }
  }
  return result;
};
