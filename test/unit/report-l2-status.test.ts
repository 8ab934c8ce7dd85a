// The Report's optional verify-l2 matrix and status rows: built from cluster facts, valid against the
// published JSON schema, and wrong shapes are rejected.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildL2Matrix } from '../../src/checks/l2-adjacency.ts';
import { nodeStatuses } from '../../src/diagnose/node-status.ts';
import { buildReport } from '../../src/report/report.ts';
import { REPORT_SCHEMA } from '../../src/report/report-schema.ts';
import { editNode, healthyCluster } from '../helpers/cluster-facts-fixtures.ts';
import { validateSchema, type Schema } from '../helpers/json-schema.ts';

const NOW = new Date('2026-11-26T10:00:00Z');
const valid = (value: unknown) => validateSchema(REPORT_SCHEMA as Schema, JSON.parse(JSON.stringify(value)));

test('a VerifyL2Report with its matrix and a StatusReport with its rows match the schema', () => {
  const facts = healthyCluster('host-gw');
  const l2 = {
    ...buildReport(facts, [], { kind: 'VerifyL2Report', now: NOW }),
    l2Matrix: buildL2Matrix(facts),
  };
  assert.deepEqual(valid(l2), []);
  const status = {
    ...buildReport(facts, [], { kind: 'StatusReport', now: NOW }),
    nodeStatus: nodeStatuses(facts),
  };
  assert.deepEqual(valid(status), []);
  assert.deepEqual(valid({ ...l2, l2Matrix: { ...l2.l2Matrix, cells: [['adjacent', 'bogus']] } }), [
    '$.l2Matrix.cells[0][1]: "bogus" not in ["adjacent","routed","other-interface","ambiguous","error","unknown","self"]',
  ]);
});

test('status rows: routes to peers counted from the node, flannel pod state from the API', () => {
  const facts = editNode(healthyCluster('host-gw'), 'node-2', (f) => ({
    ...f,
    routes: (f.routes ?? []).filter((r) => r.dst !== '10.244.3.0/24'),
  }));
  const rows = nodeStatuses(facts);
  assert.deepEqual(
    rows.map((r) => [
      r.name,
      r.podCIDR,
      r.publicIp,
      r.backend,
      `${r.peerRoutes}/${r.peers}`,
      r.flannelPod?.ready,
      r.reachability,
    ]),
    [
      ['node-1', '10.244.1.0/24', '192.168.77.11', 'host-gw', '2/2', true, 'reachable'],
      ['node-2', '10.244.2.0/24', '192.168.77.12', 'host-gw', '1/2', true, 'reachable'],
      ['node-3', '10.244.3.0/24', '192.168.77.13', 'host-gw', '2/2', true, 'reachable'],
    ],
  );
});
