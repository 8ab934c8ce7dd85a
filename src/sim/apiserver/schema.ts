// The little of the OpenAPI schema that merging needs: which lists are maps keyed by a field
// (containers by name, ...) and which are atomic (tolerations, args, ...). Shared by strategic
// merge patch and server-side apply so the two agree, as on the real server.

export type ListStrategy = { kind: 'map'; key: string } | { kind: 'atomic' } | { kind: 'set' };

const KEYED: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  ownerReferences: 'uid',
  conditions: 'type',
  addresses: 'type',
  containerStatuses: 'name',
  initContainerStatuses: 'name',
  managedFields: 'manager',
};

const SETS = new Set(['finalizers']);

/** `path` is the field names from the object root, e.g. ['spec','template','spec','containers']. */
export const listStrategy = (path: readonly string[], sample: readonly unknown[]): ListStrategy => {
  const field = path[path.length - 1] ?? '';
  if (field === 'ports') {
    // Container ports are keyed by containerPort; service ports by port.
    const key =
      path[path.length - 3] === 'containers' || path.includes('containers') ? 'containerPort' : 'port';
    return { kind: 'map', key };
  }
  const key = KEYED[field];
  if (key) return { kind: 'map', key };
  if (SETS.has(field)) return { kind: 'set' };
  void sample;
  return { kind: 'atomic' };
};

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Structural equality of JSON values, key order ignored. */
export const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
};

export const clone = <T>(v: T): T => structuredClone(v);
