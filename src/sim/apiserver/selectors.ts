// Label and field selectors with the real server's syntax and its error for what it cannot parse.
import type { KubeObject } from '../cluster-seed.ts';
import { badRequest } from './api-error.ts';

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: Set<string> }
  | { op: 'exists' | 'notexists'; key: string };

export type LabelSelector = readonly Requirement[];

/** Splits on commas that are not inside a (set, list). */
const splitTerms = (text: string): string[] => {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else current += ch;
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t !== '');
};

const KEY = /^([A-Za-z0-9][-A-Za-z0-9_.]*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const checkKey = (key: string, whole: string): string => {
  if (!KEY.test(key))
    throw badRequest(`unable to parse requirement: invalid label key "${key}" in "${whole}"`);
  return key;
};
const checkValue = (value: string, whole: string): string => {
  if (!VALUE.test(value))
    throw badRequest(`unable to parse requirement: invalid label value "${value}" in "${whole}"`);
  return value;
};

export const parseLabelSelector = (text: string | null | undefined): LabelSelector => {
  if (!text) return [];
  return splitTerms(text).map((term): Requirement => {
    const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
    if (set) {
      const values = new Set(set[3]!.split(',').map((v) => checkValue(v.trim(), term)));
      return { op: set[2] as 'in' | 'notin', key: checkKey(set[1]!, term), values };
    }
    const cmp = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (cmp) {
      return {
        op: cmp[2] === '!=' ? 'neq' : 'eq',
        key: checkKey(cmp[1]!, term),
        value: checkValue(cmp[3]!, term),
      };
    }
    if (term.startsWith('!')) return { op: 'notexists', key: checkKey(term.slice(1).trim(), term) };
    return { op: 'exists', key: checkKey(term, term) };
  });
};

export const matchesLabels = (
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean =>
  selector.every((r) => {
    const value = labels?.[r.key];
    switch (r.op) {
      case 'eq':
        return value === r.value;
      case 'neq':
        return value !== r.value;
      case 'in':
        return value !== undefined && r.values.has(value);
      case 'notin':
        return value === undefined || !r.values.has(value);
      case 'exists':
        return value !== undefined;
      case 'notexists':
        return value === undefined;
    }
  });

/** A metav1.LabelSelector (matchLabels + matchExpressions), as DaemonSets carry. */
export interface StructuredLabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export const matchesStructuredSelector = (
  selector: StructuredLabelSelector | undefined,
  labels: Readonly<Record<string, string>> | undefined,
): boolean => {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels?.[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const value = labels?.[e.key];
    const values = e.values ?? [];
    const ok =
      e.operator === 'In'
        ? value !== undefined && values.includes(value)
        : e.operator === 'NotIn'
          ? value === undefined || !values.includes(value)
          : e.operator === 'Exists'
            ? value !== undefined
            : e.operator === 'DoesNotExist'
              ? value === undefined
              : false;
    if (!ok) return false;
  }
  return true;
};

type FieldRequirement = { key: string; value: string; negate: boolean };
export type FieldSelector = readonly FieldRequirement[];

/** Field selectors each resource supports on the real server (plus metadata.* everywhere). */
const FIELDS: Record<string, readonly string[]> = {
  pods: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
    'spec.hostNetwork',
  ],
  nodes: ['spec.unschedulable'],
  events: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  namespaces: ['status.phase'],
};

export const parseFieldSelector = (
  text: string | null | undefined,
  resource: string,
  kind: string,
): FieldSelector => {
  if (!text) return [];
  return splitTerms(text).map((term) => {
    const m = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const key = m[1]!;
    if (key !== 'metadata.name' && key !== 'metadata.namespace' && !(FIELDS[resource] ?? []).includes(key)) {
      throw badRequest(`"${key}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
    }
    void kind;
    return { key, value: m[3]!, negate: m[2] === '!=' };
  });
};

const fieldValue = (obj: KubeObject, path: string): string => {
  if (path === 'source') path = 'source.component';
  let cur: unknown = obj;
  for (const part of path.split('.')) cur = (cur as Record<string, unknown> | undefined)?.[part];
  if (cur === undefined || cur === null) return '';
  return String(cur);
};

export const matchesFields = (selector: FieldSelector, obj: KubeObject): boolean =>
  selector.every((r) => (fieldValue(obj, r.key) === r.value) !== r.negate);

/** When a field selector pins metadata.name or metadata.namespace, lists can skip the scan. */
export const pinnedField = (selector: FieldSelector, key: string): string | undefined =>
  selector.find((r) => r.key === key && !r.negate)?.value;
