// Just enough OpenAPI v3 for kubectl: its field-validation verifier looks for a PATCH operation
// tagged with the kind's x-kubernetes-group-version-kind that accepts `fieldValidation`. With that
// found, kubectl leaves validation to the server instead of demanding full schemas.
import { createHash } from 'node:crypto';
import { KUBERNETES_VERSION } from './discovery.ts';
import { RESOURCE_TYPES, groupVersion } from './resources.ts';
import type { ResourceType } from './resources.ts';

const gvPath = (gv: string): string => (gv.includes('/') ? `apis/${gv}` : `api/${gv}`);

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map((name) => ({
  name,
  in: 'query',
  schema: { type: name === 'force' ? 'boolean' : 'string' },
  uniqueItems: true,
}));

const documentFor = (gv: string) => {
  const paths: Record<string, unknown> = {};
  for (const t of RESOURCE_TYPES.filter((r: ResourceType) => groupVersion(r) === gv && !r.virtual)) {
    const base = `/${gvPath(gv)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.resource}/{name}`;
    paths[base] = {
      parameters: QUERY_PARAMS,
      patch: {
        operationId: `patch${t.kind}`,
        parameters: QUERY_PARAMS,
        responses: { '200': { description: 'OK' } },
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: KUBERNETES_VERSION },
    paths,
    components: { schemas: {} },
  };
};

const documents = new Map<string, { text: string; hash: string }>();
for (const gv of new Set(RESOURCE_TYPES.map(groupVersion))) {
  const text = JSON.stringify(documentFor(gv));
  documents.set(gvPath(gv), {
    text,
    hash: createHash('sha512').update(text).digest('hex').slice(0, 64).toUpperCase(),
  });
}

export const openApiIndex = () => ({
  paths: Object.fromEntries(
    [...documents].map(([path, d]) => [path, { serverRelativeURL: `/openapi/v3/${path}?hash=${d.hash}` }]),
  ),
});

/** The document for e.g. "apis/apps/v1", or undefined. */
export const openApiDocument = (path: string): string | undefined => documents.get(path)?.text;
