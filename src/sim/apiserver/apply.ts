// Server-side apply: merge the applied configuration, drop what the manager stopped applying,
// and refuse to take fields another manager set to a different value unless forced.
import type { KubeObject } from '../cluster-seed.ts';
import { ApiError } from './api-error.ts';
import type { FieldPath } from './field-set.ts';
import {
  describePath,
  fieldSet,
  isItemKeyField,
  isItemPath,
  isUnder,
  removeAt,
  valueAt,
} from './field-set.ts';
import type { Owner } from './managed-fields.ts';
import { ownerId, readOwners, sameOwners, writeOwners } from './managed-fields.ts';
import { clone, isPlainObject, jsonEqual, listStrategy } from './schema.ts';

export interface ApplyRequest {
  readonly live: KubeObject | undefined;
  readonly applied: KubeObject;
  readonly manager: string;
  readonly force: boolean;
  readonly apiVersion: string;
}

export interface ApplyResult {
  readonly object: KubeObject;
  /** False when the apply changed neither content nor ownership: nothing is written. */
  readonly changed: boolean;
}

export const serverSideApply = (req: ApplyRequest): ApplyResult => {
  const { live, applied, manager, force } = req;
  const newSet = fieldSet(applied, false);
  const owners = readOwners(live);
  const id = ownerId({ manager, operation: 'Apply' });
  const conflicts: { owner: Owner; path: FieldPath }[] = [];
  for (const owner of owners) {
    if (owner.manager === manager) continue;
    for (const path of owner.fields) {
      if (!newSet.has(path) || isItemPath(path)) continue;
      if (!jsonEqual(valueAt(live, path), valueAt(applied, path))) conflicts.push({ owner, path });
    }
  }
  if (conflicts.length > 0 && !force) throw conflictError(conflicts);
  for (const { owner, path } of conflicts) owner.fields.delete(path);

  const previous = owners.find((o) => ownerId(o) === id);
  const merged = mergeApplied(live ? clone(live) : {}, applied, []) as KubeObject;
  if (previous) {
    const others = owners.filter((o) => o !== previous);
    const dropped = [...previous.fields].filter((p) => !newSet.has(p));
    // Deepest first, so a list item goes only after its fields; keep anything another manager holds.
    dropped.sort((a, b) => b.length - a.length);
    for (const path of dropped) {
      if (isItemKeyField(path)) continue;
      if (others.some((o) => [...o.fields].some((f) => isUnder(f, path)))) continue;
      removeAt(merged as Record<string, unknown>, path);
    }
  }
  const nextOwners = owners.filter((o) => o !== previous);
  nextOwners.push({
    manager,
    operation: 'Apply',
    apiVersion: req.apiVersion,
    fields: newSet,
    ...(previous?.time ? { time: previous.time } : {}),
  });

  const strip = (o: KubeObject | undefined) =>
    o ? { ...o, metadata: { ...o.metadata, managedFields: undefined } } : undefined;
  const contentSame = live !== undefined && jsonEqual(strip(live), strip(merged));
  const ownershipSame = sameOwners(owners.length ? readOwners(live) : [], nextOwners);
  if (live && contentSame && ownershipSame) return { object: live, changed: false };
  merged.metadata = { ...merged.metadata, managedFields: writeOwners(nextOwners, new Set([id])) };
  return { object: merged, changed: true };
};

const conflictError = (conflicts: { owner: Owner; path: FieldPath }[]): ApiError => {
  const lines = conflicts.map(
    ({ owner, path }) =>
      `conflict with "${owner.manager}"${owner.operation === 'Update' ? ` using ${owner.apiVersion}` : ''}: ${describePath(path)}`,
  );
  const message =
    conflicts.length === 1
      ? `Apply failed with 1 conflict: ${lines[0]}`
      : `Apply failed with ${conflicts.length} conflicts: ${lines.map((l) => `\n- ${l}`).join('')}`;
  return new ApiError(409, 'Conflict', message, {
    causes: conflicts.map(({ owner, path }) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with "${owner.manager}"${owner.operation === 'Update' ? ` using ${owner.apiVersion}` : ''}`,
      field: describePath(path),
    })),
  });
};

/** Structural merge with the schema's list semantics (keyed lists merge by key, others replace). */
const mergeApplied = (live: unknown, applied: unknown, path: string[]): unknown => {
  if (isPlainObject(applied)) {
    const result: Record<string, unknown> = isPlainObject(live) ? live : {};
    for (const [key, value] of Object.entries(applied)) {
      if (value === null) delete result[key];
      else if (path.length === 0 && key === 'status') continue;
      else result[key] = mergeApplied(result[key], value, [...path, key]);
    }
    return result;
  }
  if (Array.isArray(applied)) {
    const strategy = listStrategy(path, applied);
    const current = Array.isArray(live) ? live : [];
    if (strategy.kind === 'set') {
      const seen = new Set(current.map((v) => JSON.stringify(v)));
      return [...current, ...applied.filter((v) => !seen.has(JSON.stringify(v)))];
    }
    if (strategy.kind === 'map' && applied.every((v) => isPlainObject(v) && v[strategy.key] !== undefined)) {
      const result = [...current];
      for (const item of applied as Record<string, unknown>[]) {
        const index = result.findIndex((r) => isPlainObject(r) && r[strategy.key] === item[strategy.key]);
        if (index >= 0) result[index] = mergeApplied(result[index], item, path);
        else result.push(mergeApplied({}, item, path));
      }
      return result;
    }
    return clone(applied);
  }
  return applied;
};
