// Field sets, the currency of managedFields: which leaf fields of an object a manager owns.
// A path is its segments joined by "\n": `f:<field>` for map fields, `k:{"name":"x"}` for an item
// of a keyed list (the item itself is a path too, fieldsV1's "."), `v:<json>` for a set member.
import type { KubeObject } from '../cluster-seed.ts';
import { isPlainObject, listStrategy } from './schema.ts';

export type FieldPath = string;
const SEP = '\n';

/** Fields nobody owns: identity and bookkeeping the server maintains itself. */
const IGNORED_METADATA = new Set([
  'name',
  'namespace',
  'generateName',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
]);

/** Each leaf path of `obj` with its value as JSON, so changes and conflicts can be compared. */
export const leafValues = (obj: KubeObject, includeStatus: boolean): Map<FieldPath, string> => {
  const out = new Map<FieldPath, string>();
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'apiVersion' || key === 'kind' || value === undefined) continue;
    if (key === 'status' && !includeStatus) continue;
    if (key === 'metadata' && isPlainObject(value)) {
      for (const [mk, mv] of Object.entries(value)) {
        if (IGNORED_METADATA.has(mk) || mv === undefined) continue;
        walk(mv, [`f:metadata`, `f:${mk}`], ['metadata', mk], out);
      }
      continue;
    }
    walk(value, [`f:${key}`], [key], out);
  }
  return out;
};

export const fieldSet = (obj: KubeObject, includeStatus: boolean): Set<FieldPath> =>
  new Set(leafValues(obj, includeStatus).keys());

const walk = (value: unknown, segs: string[], schemaPath: string[], out: Map<FieldPath, string>): void => {
  if (isPlainObject(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined);
    if (keys.length === 0) out.set(segs.join(SEP), '{}');
    for (const k of keys) walk(value[k], [...segs, `f:${k}`], [...schemaPath, k], out);
    return;
  }
  if (Array.isArray(value)) {
    const strategy = listStrategy(schemaPath, value);
    if (strategy.kind === 'map' && value.every((v) => isPlainObject(v) && v[strategy.key] !== undefined)) {
      for (const item of value as Record<string, unknown>[]) {
        const itemSegs = [...segs, `k:${JSON.stringify({ [strategy.key]: item[strategy.key] })}`];
        out.set(itemSegs.join(SEP), '');
        for (const k of Object.keys(item)) {
          if (item[k] !== undefined) walk(item[k], [...itemSegs, `f:${k}`], [...schemaPath, k], out);
        }
      }
      return;
    }
    if (strategy.kind === 'set') {
      for (const item of value) out.set([...segs, `v:${JSON.stringify(item)}`].join(SEP), '');
      return;
    }
  }
  out.set(segs.join(SEP), JSON.stringify(value));
};

/** Renders a set as the nested fieldsV1 JSON kubectl shows in `managedFields`. */
export const toFieldsV1 = (paths: Iterable<FieldPath>): Record<string, unknown> => {
  const root: Record<string, unknown> = {};
  for (const path of [...paths].sort()) {
    const segs = path.split(SEP);
    let node = root;
    for (const seg of segs) node = (node[seg] ??= {}) as Record<string, unknown>;
    if (segs[segs.length - 1]!.startsWith('k:')) node['.'] = {};
  }
  return root;
};

export const fromFieldsV1 = (tree: unknown): Set<FieldPath> => {
  const out = new Set<FieldPath>();
  const visit = (node: unknown, segs: string[]): void => {
    if (!isPlainObject(node)) return;
    const keys = Object.keys(node);
    if (keys.length === 0 && segs.length > 0) out.add(segs.join(SEP));
    for (const k of keys) {
      if (k === '.') out.add(segs.join(SEP));
      else visit(node[k], [...segs, k]);
    }
  };
  visit(tree, []);
  return out;
};

export const isItemPath = (path: FieldPath): boolean => {
  const last = path.slice(path.lastIndexOf(SEP) + 1);
  return last.startsWith('k:') || last.startsWith('v:');
};

/** The key field of a keyed-list item (`name` under `k:{"name":..}`): it goes only with its item. */
export const isItemKeyField = (path: FieldPath): boolean => {
  const segs = path.split(SEP);
  const parent = segs[segs.length - 2];
  const last = segs[segs.length - 1]!;
  if (!parent?.startsWith('k:') || !last.startsWith('f:')) return false;
  return Object.keys(JSON.parse(parent.slice(2)) as object).includes(last.slice(2));
};

export const isUnder = (path: FieldPath, ancestor: FieldPath): boolean =>
  path === ancestor || path.startsWith(ancestor + SEP);

/** Human form for conflict messages: `.spec.template.spec.containers[name="kube-flannel"].image`. */
export const describePath = (path: FieldPath): string =>
  path
    .split(SEP)
    .map((seg) => {
      if (seg.startsWith('f:')) return `.${seg.slice(2)}`;
      if (seg.startsWith('k:')) {
        const key = JSON.parse(seg.slice(2)) as Record<string, unknown>;
        return `[${Object.entries(key)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(',')}]`;
      }
      return `[=${seg.slice(2)}]`;
    })
    .join('');

type Container = Record<string, unknown> | unknown[];

/** Finds the container holding the last segment, or undefined when the path is not in `obj`. */
const locate = (obj: unknown, path: FieldPath): { parent: Container; seg: string } | undefined => {
  const segs = path.split(SEP);
  let cur: unknown = obj;
  for (let i = 0; i < segs.length - 1; i++) {
    cur = step(cur, segs[i]!);
    if (cur === undefined) return undefined;
  }
  if (!isPlainObject(cur) && !Array.isArray(cur)) return undefined;
  return { parent: cur, seg: segs[segs.length - 1]! };
};

const step = (cur: unknown, seg: string): unknown => {
  if (seg.startsWith('f:')) return isPlainObject(cur) ? cur[seg.slice(2)] : undefined;
  if (!Array.isArray(cur)) return undefined;
  if (seg.startsWith('k:')) {
    const key = JSON.parse(seg.slice(2)) as Record<string, unknown>;
    return cur.find((item) => isPlainObject(item) && Object.entries(key).every(([k, v]) => item[k] === v));
  }
  const wanted = seg.slice(2);
  return cur.find((item) => JSON.stringify(item) === wanted);
};

export const valueAt = (obj: unknown, path: FieldPath): unknown => {
  const at = locate(obj, path);
  return at ? step(at.parent, at.seg) : undefined;
};

/** Removes the field at `path` and prunes maps it leaves empty. */
export const removeAt = (obj: Record<string, unknown>, path: FieldPath): void => {
  const at = locate(obj, path);
  if (!at) return;
  const { parent, seg } = at;
  if (Array.isArray(parent)) {
    const target = step(parent, seg);
    const index = parent.indexOf(target);
    if (index >= 0) parent.splice(index, 1);
  } else delete parent[seg.slice(2)];
  const segs = path.split(SEP);
  if (segs.length > 1) {
    const up = segs.slice(0, -1).join(SEP);
    const container = valueAt(obj, up);
    if (isPlainObject(container) && Object.keys(container).length === 0 && !up.endsWith('f:metadata')) {
      removeAt(obj, up);
    }
  }
};
