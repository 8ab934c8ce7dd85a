// The rollback's three-way decision on net-conf.json and the ConfigMap edits it makes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideBackendRestore, threeWayDiff } from '../../src/migrate/backend-restore.ts';
import { parseBackup, takeBackup, withRestoredData } from '../../src/migrate/backup.ts';
import { restoreStep, RollbackConflictError, writtenNetConf } from '../../src/migrate/steps.ts';
import type { MigrationState } from '../../src/migrate/state.ts';
import type { ConfigMapLike } from '../../src/kube/discover.ts';

const VXLAN = '{\n  "Network": "10.244.0.0/16",\n  "Backend": {\n    "Type": "vxlan"\n  }\n}\n';
const HOST_GW = '{\n  "Network": "10.244.0.0/16",\n  "Backend": {\n    "Type": "host-gw"\n  }\n}\n';

const cm = (netConf: string, extra: Partial<ConfigMapLike> = {}): ConfigMapLike => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'kube-flannel-cfg', namespace: 'kube-flannel', resourceVersion: '7' },
  data: { 'net-conf.json': netConf, 'cni-conf.json': '{}' },
  ...extra,
});
const state: MigrationState = {
  id: 'x',
  from: 'vxlan',
  to: 'host-gw',
  phase: 'converged',
  startedAt: 't',
  updatedAt: 't',
};

test('what flannelctl wrote, unchanged since: the backup text comes back byte for byte', () => {
  const odd = '{"Network":"10.244.0.0/16",   "Backend":{"Type":"vxlan"}}';
  assert.deepEqual(decideBackendRestore({ backup: odd, written: HOST_GW, current: HOST_GW }), {
    kind: 'restore',
    text: odd,
  });
});

test('other keys edited since: only the Backend value is replaced, the edits stay in place', () => {
  const current = '{"Network":"10.245.0.0/16","Backend":{"Type":"host-gw"},"SubnetLen":24}';
  const d = decideBackendRestore({ backup: VXLAN, written: HOST_GW, current });
  assert.equal(d.kind, 'restore');
  assert.equal(
    d.kind === 'restore' && d.text,
    '{\n  "Network": "10.245.0.0/16",\n  "Backend": {\n    "Type": "vxlan"\n  },\n  "SubnetLen": 24\n}\n',
  );
});

test('a Backend already back to the backup one writes nothing; one changed by someone else is a conflict', () => {
  const same = '{"Backend": {"Type": "vxlan"}, "Network": "10.244.0.0/16"}';
  assert.deepEqual(decideBackendRestore({ backup: VXLAN, written: HOST_GW, current: same }), {
    kind: 'unchanged',
  });
  const theirs = '{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan", "VNI": 4}}';
  assert.match(
    JSON.stringify(decideBackendRestore({ backup: VXLAN, written: HOST_GW, current: theirs })),
    /"kind":"conflict".*changed by someone else after flannelctl wrote it/,
  );
  assert.equal(
    decideBackendRestore({ backup: VXLAN, written: undefined, current: HOST_GW }).kind,
    'conflict',
  );
  assert.equal(decideBackendRestore({ backup: VXLAN, written: HOST_GW, current: '{' }).kind, 'conflict');
  assert.equal(
    decideBackendRestore({ backup: VXLAN, written: HOST_GW, current: undefined }).kind,
    'conflict',
  );
});

test('the three-way diff shows both changes and neutralises control characters from the cluster', () => {
  const theirs =
    '{\n  "Network": "10.244.0.0/16",\n  "Backend": {\n    "Type": "vxlan\u001b]52;c;eA==\u0007"\n  }\n}\n';
  const text = threeWayDiff(
    { backup: VXLAN, written: HOST_GW, current: theirs },
    { backup: 'backup', written: 'written', current: 'current' },
  );
  assert.match(
    text,
    /what flannelctl changed \(backup -> written\):\n[\s\S]*- {4}"Type": "vxlan"\n\+ {4}"Type": "host-gw"/,
  );
  assert.match(
    text,
    /what changed since \(written -> current\):\n[\s\S]*\+ {4}"Type": "vxlan\\x1b\]52;c;eA==\\x07"/,
  );
  assert.ok(!text.includes('\u001b') && !text.includes('\u0007'), 'no raw ESC or BEL reaches the terminal');
});

test('restoreStep keeps other keys and binaryData; a conflict throws with the flag to use', () => {
  const backup = takeBackup(cm(VXLAN), new Date(0));
  const current = cm(HOST_GW, {
    data: { 'net-conf.json': HOST_GW, 'cni-conf.json': '{}', 'notes.txt': 'n' },
    binaryData: { 'b.bin': 'AA==' },
  });
  const next = restoreStep(backup, HOST_GW, state, false)(current)!;
  assert.deepEqual(next.data, { 'net-conf.json': VXLAN, 'cni-conf.json': '{}', 'notes.txt': 'n' });
  assert.deepEqual(next.binaryData, { 'b.bin': 'AA==' });
  const theirs = cm('{"Backend":{"Type":"vxlan","VNI":4}}');
  assert.throws(
    () => restoreStep(backup, HOST_GW, state, false)(theirs),
    (e: unknown) =>
      e instanceof RollbackConflictError &&
      /resourceVersion 7/.test(e.message) &&
      /--rollback --restore-backup/.test(e.hint ?? ''),
  );
  // --restore-backup: everything as backed up, whatever the current object holds.
  assert.deepEqual(restoreStep(backup, HOST_GW, state, true)(theirs)!.data, backup.data);
});

test('backups carry binaryData as base64 and restore it; a backup without any drops the current one', () => {
  const blob = Buffer.from([0, 255, 10]).toString('base64');
  const backup = takeBackup(cm(VXLAN, { binaryData: { 'b.bin': blob } }), new Date(0));
  assert.deepEqual(backup.binaryData, { 'b.bin': blob });
  assert.deepEqual(parseBackup(JSON.stringify(backup), 'file').binaryData, { 'b.bin': blob });
  assert.deepEqual(withRestoredData(cm(HOST_GW), backup).binaryData, { 'b.bin': blob });
  const plain = takeBackup(cm(VXLAN), new Date(0));
  assert.equal('binaryData' in withRestoredData(cm(HOST_GW, { binaryData: { x: 'AA==' } }), plain), false);
  assert.throws(
    () => parseBackup(JSON.stringify({ ...plain, binaryData: { x: 1 } }), 'file'),
    /not a flannelctl ConfigMap backup/,
  );
});

test('what flannelctl wrote: recorded, recomputed for older states, none before the change step', () => {
  const backup = takeBackup(cm(VXLAN), new Date(0));
  assert.equal(writtenNetConf({ ...state, written: 'recorded' }, backup), 'recorded');
  assert.match(writtenNetConf(state, backup) ?? '', /"Type": "host-gw"/);
  assert.equal(writtenNetConf({ ...state, phase: 'stopped' }, backup), undefined);
  assert.equal(writtenNetConf({ ...state, phase: 'backed-up' }, backup), undefined);
  assert.equal(writtenNetConf(undefined, backup), undefined);
});

test('the dry run shows the change request recording what it writes, as the real run does', async () => {
  const { plannedRequests } = await import('../../src/migrate/steps.ts');
  const { parseNetConf } = await import('../../src/flannel/net-conf.ts');
  const requests = plannedRequests(
    cm(VXLAN),
    'kube-flannel-ds',
    parseNetConf(VXLAN),
    { type: 'host-gw', directRouting: false },
    new Date(0),
    {
      mode: 'migrate',
      dryRun: true,
      force: false,
      cleanup: false,
      watch: false,
      backupDir: '/b',
      restoreBackup: false,
    },
  );
  const change = requests[1]!.body as ConfigMapLike;
  const recorded = JSON.parse(change.metadata.annotations!['flannelctl.io/migration']!) as MigrationState;
  assert.equal(recorded.phase, 'config-changed');
  assert.equal(recorded.written, change.data!['net-conf.json']);
  assert.match(recorded.written ?? '', /"Type": "host-gw"/);
});
