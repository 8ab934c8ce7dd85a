// JSON Schema (draft 2020-12) of the flannelctl/v1 Report, for CI consumers of `-o json`. Kept next to
// the type; test/unit/report-schema.test.ts validates generated reports against it.
import { L2_VERDICTS } from '../checks/l2-adjacency.ts';
import { SEVERITIES } from '../checks/types.ts';
import { REPORT_API_VERSION, REPORT_KINDS } from './report.ts';

const str = { type: 'string' } as const;
const nullableStr = { type: ['string', 'null'] } as const;
const count = { type: 'integer', minimum: 0 } as const;

export const REPORT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://flannelctl.dev/schemas/report-v1.json',
  title: 'flannelctl report',
  type: 'object',
  additionalProperties: false,
  required: [
    'apiVersion',
    'kind',
    'generatedAt',
    'expectedBackend',
    'summary',
    'checks',
    'nodes',
    'findings',
  ],
  properties: {
    apiVersion: { const: REPORT_API_VERSION },
    kind: { enum: [...REPORT_KINDS] },
    generatedAt: { type: 'string', format: 'date-time' },
    cluster: {
      type: 'object',
      additionalProperties: false,
      required: ['namespace', 'daemonSet', 'image', 'network', 'nodeCount'],
      properties: {
        namespace: nullableStr,
        daemonSet: nullableStr,
        image: nullableStr,
        network: nullableStr,
        nodeCount: count,
      },
    },
    expectedBackend: {
      type: 'object',
      additionalProperties: false,
      required: ['value', 'source', 'reason'],
      properties: {
        value: nullableStr,
        source: { enum: ['configmap', 'flag', 'inferred', 'unknown'] },
        reason: str,
      },
    },
    summary: {
      type: 'object',
      additionalProperties: false,
      required: [...SEVERITIES],
      properties: Object.fromEntries(SEVERITIES.map((s) => [s, count])),
    },
    checks: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'title', 'status'],
        properties: { id: str, title: str, status: { enum: [...SEVERITIES] } },
      },
    },
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'reachable'],
        properties: {
          name: str,
          reachable: { type: 'boolean' },
          issue: {
            type: 'object',
            additionalProperties: false,
            required: ['kind', 'message'],
            properties: { kind: str, message: str, hint: str },
          },
        },
      },
    },
    findings: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['check', 'code', 'severity', 'message', 'evidence'],
        properties: {
          check: str,
          code: { type: 'string', pattern: '^[a-z0-9-]+/[a-z0-9-]+$' },
          severity: { enum: [...SEVERITIES] },
          node: str,
          peer: str,
          message: str,
          evidence: { type: 'array', items: str },
          remediation: str,
        },
      },
    },
    l2Matrix: {
      type: 'object',
      additionalProperties: false,
      required: ['nodes', 'peers', 'cells', 'counts', 'segments'],
      properties: {
        nodes: { type: 'array', items: str },
        peers: { type: 'array', items: str },
        cells: { type: 'array', items: { type: 'array', items: { enum: [...L2_VERDICTS] } } },
        counts: {
          type: 'object',
          additionalProperties: false,
          required: [...L2_VERDICTS],
          properties: Object.fromEntries(L2_VERDICTS.map((v) => [v, count])),
        },
        segments: { type: 'array', items: { type: 'array', items: str } },
      },
    },
    nodeStatus: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: [
          'name',
          'podCIDR',
          'publicIp',
          'backend',
          'peerRoutes',
          'peers',
          'flannelPod',
          'reachability',
        ],
        properties: {
          name: str,
          podCIDR: nullableStr,
          publicIp: nullableStr,
          backend: nullableStr,
          peerRoutes: { type: ['integer', 'null'], minimum: 0 },
          peers: count,
          flannelPod: {
            type: ['object', 'null'],
            additionalProperties: false,
            required: ['name', 'ready', 'phase', 'restarts'],
            properties: { name: str, ready: { type: 'boolean' }, phase: nullableStr, restarts: count },
          },
          reachability: { enum: ['reachable', 'unreachable', 'not-probed'] },
          issue: str,
        },
      },
    },
    tuneSettings: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'guide', 'verdict', 'scope', 'reason', 'values'],
        properties: {
          key: str,
          guide: { type: ['string', 'integer'] },
          verdict: { enum: ['recommended', 'not-recommended', 'informational'] },
          scope: { enum: ['global', 'netns'] },
          reason: str,
          values: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['current', 'nodes'],
              properties: {
                current: { type: ['string', 'integer', 'null'] },
                nodes: { type: 'array', items: str },
              },
            },
          },
        },
      },
    },
  },
} as const;
