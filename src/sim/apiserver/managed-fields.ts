// Ownership bookkeeping shared by every write: who owns which fields, and managedFields entries.
import type { KubeObject, ManagedFieldsEntry } from '../cluster-seed.ts';
import type { FieldPath } from './field-set.ts';
import { fromFieldsV1, leafValues, toFieldsV1 } from './field-set.ts';

export interface Owner {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  time?: string;
  fields: Set<FieldPath>;
}

export const ownerId = (o: Pick<Owner, 'manager' | 'operation' | 'subresource'>): string =>
  `${o.manager}\u0000${o.operation}\u0000${o.subresource ?? ''}`;

export const readOwners = (obj: KubeObject | undefined): Owner[] =>
  (obj?.metadata?.managedFields ?? [])
    .filter((e) => e && typeof e.manager === 'string')
    .map((e) => ({
      manager: e.manager,
      operation: e.operation,
      apiVersion: e.apiVersion,
      ...(e.subresource ? { subresource: e.subresource } : {}),
      ...(e.time ? { time: e.time } : {}),
      fields: fromFieldsV1(e.fieldsV1),
    }));

export const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Renders owners back, dropping the ones left with nothing; `touched` get a fresh timestamp. */
export const writeOwners = (owners: Owner[], touched: Set<string>): ManagedFieldsEntry[] =>
  owners
    .filter((o) => o.fields.size > 0)
    .map((o) => ({
      manager: o.manager,
      operation: o.operation,
      apiVersion: o.apiVersion,
      time: touched.has(ownerId(o)) || !o.time ? now() : o.time,
      fieldsType: 'FieldsV1' as const,
      fieldsV1: toFieldsV1(o.fields),
      ...(o.subresource ? { subresource: o.subresource } : {}),
    }));

/** Equal ownership: same owners with the same fields (timestamps aside). */
export const sameOwners = (a: Owner[], b: Owner[]): boolean => {
  const live = (list: Owner[]) => list.filter((o) => o.fields.size > 0);
  const la = live(a);
  const lb = live(b);
  if (la.length !== lb.length) return false;
  return la.every((o) => {
    const other = lb.find((x) => ownerId(x) === ownerId(o));
    return (
      other !== undefined &&
      other.fields.size === o.fields.size &&
      [...o.fields].every((f) => other.fields.has(f))
    );
  });
};

/**
 * A non-apply write (create, PUT, PATCH): the writer owns what it changed and other owners lose
 * those fields, as the real server does.
 */
export const recordUpdate = (
  before: KubeObject | undefined,
  after: KubeObject,
  writer: { manager: string; apiVersion: string; subresource?: string },
): ManagedFieldsEntry[] => {
  const status = writer.subresource === 'status';
  const oldLeaves = before ? leafValues(before, status) : new Map<FieldPath, string>();
  const newLeaves = leafValues(after, status);
  const changed = new Set<FieldPath>();
  for (const [path, value] of newLeaves) if (oldLeaves.get(path) !== value) changed.add(path);
  const removed = [...oldLeaves.keys()].filter((p) => !newLeaves.has(p));
  const owners = readOwners(before);
  const id = ownerId({ manager: writer.manager, operation: 'Update', subresource: writer.subresource });
  if (changed.size === 0 && removed.length === 0) return before?.metadata?.managedFields ?? [];
  let mine = owners.find((o) => ownerId(o) === id);
  if (!mine) {
    mine = {
      manager: writer.manager,
      operation: 'Update',
      apiVersion: writer.apiVersion,
      ...(writer.subresource ? { subresource: writer.subresource } : {}),
      fields: new Set(),
    };
    owners.push(mine);
  }
  for (const o of owners) {
    for (const p of removed) o.fields.delete(p);
    if (o !== mine) for (const p of changed) o.fields.delete(p);
  }
  for (const p of changed) mine.fields.add(p);
  return writeOwners(owners, new Set(changed.size > 0 ? [id] : []));
};
