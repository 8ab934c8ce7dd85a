// Manifests as text: multi-document YAML (YAML 1.1 quoting, as Kubernetes reads it) and a JSON
// v1 List, both accepted by `kubectl apply -f`, and parsing of either back into objects.
import { parseAllDocuments, stringify } from 'yaml';
import { UsageError } from '../errors.ts';
import { isPlainObject } from './json-text.ts';
import type { KubeObject } from './kube-object.ts';

/**
 * Multi-document YAML, each document starting with `---` like the upstream file. YAML 1.1 makes
 * the writer quote strings such as yes/no/on/off/y that Kubernetes would otherwise read as booleans.
 */
export const toYaml = (objects: readonly KubeObject[]): string =>
  objects
    .map((object) => `---\n${stringify(object, { version: '1.1', indentSeq: false, lineWidth: 0 })}`)
    .join('');

/** A `v1 List` holding the objects, as JSON text. */
export const toJsonList = (objects: readonly KubeObject[]): string =>
  `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`;

/**
 * Objects from multi-document YAML or JSON (one object or a List; Lists are flattened). Empty
 * documents are skipped. Throws a UsageError naming `source` and the line of a syntax error.
 */
export const parseManifest = (text: string, source = 'manifest'): KubeObject[] => {
  const values: unknown[] = [];
  // YAML 1.1, as Kubernetes' sigs.k8s.io/yaml reads manifests (unquoted yes is a boolean).
  for (const doc of parseAllDocuments(text, { version: '1.1', prettyErrors: true })) {
    const error = doc.errors[0];
    if (error) {
      const where = error.linePos ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '';
      throw new UsageError(`${source}: invalid YAML${where}: ${error.message.split('\n')[0]}`);
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (value !== null && value !== undefined) values.push(value);
  }
  return values.flatMap((value, index) => expand(value, `${source} document ${index + 1}`));
};

const expand = (value: unknown, where: string): KubeObject[] => {
  if (!isKubeObject(value)) {
    throw new UsageError(`${where} is not a Kubernetes object (it needs apiVersion, kind and metadata.name)`);
  }
  if (value.kind === 'List' || value.kind.endsWith('List')) {
    const items = (value as { items?: unknown }).items;
    if (!Array.isArray(items)) throw new UsageError(`${where}: a ${value.kind} needs an "items" list`);
    return items.flatMap((item, index) => expand(item, `${where} item ${index + 1}`));
  }
  return [value];
};

const isKubeObject = (value: unknown): value is KubeObject => {
  if (!isPlainObject(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string')
    return false;
  // Lists carry no metadata.name.
  if (value.kind.endsWith('List')) return true;
  return isPlainObject(value.metadata) && typeof value.metadata.name === 'string';
};
