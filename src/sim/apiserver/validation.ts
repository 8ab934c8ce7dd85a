// The validation failures a caller of flannelctl could plausibly trigger, worded like apimachinery.
import type { KubeObject } from '../cluster-seed.ts';
import type { StatusCause } from './api-error.ts';
import { invalid } from './api-error.ts';
import type { ResourceType } from './resources.ts';
import type { StructuredLabelSelector } from './selectors.ts';
import { matchesStructuredSelector } from './selectors.ts';
import { jsonEqual } from './schema.ts';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const nameCause = (t: ResourceType, name: string): StatusCause | undefined => {
  if (t.group === 'rbac.authorization.k8s.io') {
    if (name === '.' || name === '..' || /[/%]/.test(name)) {
      return {
        reason: 'FieldValueInvalid',
        field: 'metadata.name',
        message: `Invalid value: "${name}": may not contain '/' or '%'`,
      };
    }
    return undefined;
  }
  if (t.resource === 'namespaces') {
    if (name.length <= 63 && LABEL.test(name)) return undefined;
    return {
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
      message: `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    };
  }
  if (name.length <= 253 && SUBDOMAIN.test(name)) return undefined;
  return {
    reason: 'FieldValueInvalid',
    field: 'metadata.name',
    message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
  };
};

const selectorText = (s: unknown): string => JSON.stringify(s ?? null);

export const validateObject = (t: ResourceType, obj: KubeObject, old: KubeObject | undefined): void => {
  const name = obj.metadata?.name ?? '';
  const causes: StatusCause[] = [];
  const nameProblem = old ? undefined : nameCause(t, name);
  if (nameProblem) causes.push(nameProblem);
  if (t.resource === 'daemonsets') {
    const spec = (obj.spec ?? {}) as {
      selector?: StructuredLabelSelector;
      template?: { metadata?: { labels?: Record<string, string> } };
    };
    if (!spec.selector) {
      causes.push({ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' });
    } else if (!matchesStructuredSelector(spec.selector, spec.template?.metadata?.labels)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.template.metadata.labels',
        message: `Invalid value: ${selectorText(spec.template?.metadata?.labels)}: \`selector\` does not match template \`labels\``,
      });
    }
    const oldSelector = (old?.spec as { selector?: unknown } | undefined)?.selector;
    if (old && !jsonEqual(oldSelector, spec.selector)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.selector',
        message: `Invalid value: v1.LabelSelector${selectorText(spec.selector)}: field is immutable`,
      });
    }
  }
  if (t.resource === 'configmaps') {
    for (const [key, value] of Object.entries((obj.data ?? {}) as Record<string, unknown>)) {
      if (typeof value !== 'string') {
        causes.push({
          reason: 'FieldValueInvalid',
          field: `data[${key}]`,
          message: `Invalid value: ${JSON.stringify(value)}: must be a string`,
        });
      }
    }
  }
  if (causes.length > 0) throw invalid(t, name, causes);
};
