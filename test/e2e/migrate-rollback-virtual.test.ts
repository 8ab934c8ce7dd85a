// Rollback never clobbers someone else's change (issue 15 point 4): another writer edits the flannel
// ConfigMap with the real kubectl, some edits placed at the exact request through the emulator's
// beforeNext hook, so flannelctl's PUT meets the real resourceVersion check (409).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { kubectlRequirement } from '../helpers/requirements.ts';
import { startVirtualCluster, type VirtualCluster } from '../../src/sim/virtual-cluster.ts';
import { ANNOTATIONS, CONFIGMAP_NAME, FLANNEL_NAMESPACE, NET_CONF_KEY } from '../../src/flannel/names.ts';
import { BACKUP_ANNOTATION, STATE_ANNOTATION } from '../../src/migrate/annotations.ts';
import type { MigrationResult } from '../../src/migrate/result.ts';
import type { KubeObject } from '../../src/sim/cluster-seed.ts';

const skip = kubectlRequirement();
const NODES = ['node-1', 'node-2', 'node-3', 'node-4'];
const CM_PATH = new RegExp(`/configmaps/${CONFIGMAP_NAME}$`);
// Bytes that are not UTF-8, so only binaryData can hold them.
const BLOB = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a]).toString('base64');

const env = () => ({ FLANNELCTL_BACKUP_DIR: mkdtempSync(join(tmpdir(), 'flannelctl-backups-')) });
const start = () => startVirtualCluster({ nodes: 4, backend: 'vxlan', readyDelayMs: 100 });
const configMap = (c: VirtualCluster) => c.flannel.api.get('configmaps', FLANNEL_NAMESPACE, CONFIGMAP_NAME)!;
const data = (c: VirtualCluster) => configMap(c).data as Record<string, string>;
const binaryData = (c: VirtualCluster) => (configMap(c) as KubeObject & { binaryData?: unknown }).binaryData;
const netConf = (c: VirtualCluster) => JSON.parse(data(c)[NET_CONF_KEY]!) as Record<string, unknown>;
const phase = (c: VirtualCluster) =>
  (JSON.parse(configMap(c).metadata!.annotations![STATE_ANNOTATION]!) as { phase: string }).phase;
const backendOf = (c: VirtualCluster, node: string) =>
  c.flannel.api.get('nodes', undefined, node)?.metadata?.annotations?.[ANNOTATIONS.backendType];
const migrate = (c: VirtualCluster, e: NodeJS.ProcessEnv, ...args: string[]) =>
  runCli(['migrate', ...c.cliArgs(), ...args], e);
const json = (stdout: string) => JSON.parse(stdout) as MigrationResult;

/** The other writer: the real kubectl with its own HOME (async: the emulator serves from this process). */
const kubectl = (c: VirtualCluster, ...args: string[]) =>
  new Promise<string>((resolve, reject) => {
    const home = mkdtempSync(join(tmpdir(), 'flannelctl-kubectl-'));
    execFile(
      'kubectl',
      ['--kubeconfig', c.kubeconfig, '-n', FLANNEL_NAMESPACE, ...args],
      { env: { PATH: process.env.PATH, HOME: home }, timeout: 60_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
    );
  });
const patch = (c: VirtualCluster, body: object) =>
  kubectl(c, 'patch', 'configmap', CONFIGMAP_NAME, '--type', 'merge', '-p', JSON.stringify(body));
const withNetConf = (text: string, edit: (conf: Record<string, unknown>) => void) => {
  const conf = JSON.parse(text) as Record<string, unknown>;
  edit(conf);
  return `${JSON.stringify(conf, null, 2)}\n`;
};

test(
  'a concurrent edit at the change step: 409, migrate stops, no rollback, no restart, the edit kept',
  { skip },
  async (t) => {
    const cluster = await start();
    t.after(() => cluster.close());
    const api = cluster.flannel.api;
    const original = data(cluster)[NET_CONF_KEY]!;
    const theirs = withNetConf(original, (c) => {
      c.Backend = { Type: 'vxlan', VNI: 2 };
    });
    // Between flannelctl's GET and its PUT of the new Backend, someone else changes the VNI.
    api.faults.beforeNext({ method: 'PUT', path: CM_PATH, body: /config-changed/ }, () =>
      patch(cluster, { data: { [NET_CONF_KEY]: theirs } }),
    );
    api.requests.clear();
    const r = await migrate(cluster, env(), '--to', 'host-gw');
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(
      r.stderr,
      /net-conf\.json of configmap kube-flannel\/kube-flannel-cfg was changed by someone else/,
    );
    assert.match(r.stderr, /nothing was rolled back or restarted, the other edit is kept/);
    assert.doesNotMatch(r.stderr, /Rolling back/);
    const puts = api.requests.records.filter((x) => x.method === 'PUT' && CM_PATH.test(x.path));
    assert.ok(
      puts.some((x) => x.status === 409),
      'the resourceVersion precondition refused the PUT',
    );
    assert.deepEqual(
      api.requests.writes().filter((x) => /daemonsets/.test(x.path)),
      [],
      'flannel was not restarted',
    );
    assert.equal(data(cluster)[NET_CONF_KEY], theirs, "the other writer's edit is intact, byte for byte");
    for (const n of NODES) assert.equal(backendOf(cluster, n), 'vxlan');
    assert.equal(phase(cluster), 'stopped');
    // The stop is not an unfinished migration: the next run plans against the new configuration.
    const next = await migrate(cluster, env(), '--to', 'host-gw', '--dry-run');
    assert.doesNotMatch(next.stderr, /unfinished migration/);
    assert.match(next.stdout, /Dry run: nothing was changed/, next.stderr);
    assert.match(next.stdout, /"VNI": 2/);
  },
);

test(
  '--rollback after unrelated edits restores only the Backend, keeps the edits, re-checks on 409',
  { skip },
  async (t) => {
    const cluster = await start();
    t.after(() => cluster.close());
    const api = cluster.flannel.api;
    const e = env();
    await patch(cluster, { binaryData: { 'blob.bin': BLOB } });
    const original = { ...data(cluster) };

    const m = await migrate(cluster, e, '--to', 'host-gw', '-o', 'json');
    assert.equal(m.code, 0, m.stderr + m.stdout);
    const saved = JSON.parse(readFileSync(json(m.stdout).backup!.file!, 'utf8')) as {
      data: Record<string, string>;
      binaryData?: Record<string, string>;
    };
    assert.deepEqual(saved.binaryData, { 'blob.bin': BLOB }, 'the local backup has binaryData as base64');
    const annotation = JSON.parse(
      configMap(cluster).metadata!.annotations![BACKUP_ANNOTATION]!,
    ) as typeof saved;
    assert.deepEqual(annotation.binaryData, { 'blob.bin': BLOB });
    const recorded = JSON.parse(configMap(cluster).metadata!.annotations![STATE_ANNOTATION]!) as {
      written?: string;
    };
    assert.equal(recorded.written, data(cluster)[NET_CONF_KEY], 'the state records what flannelctl wrote');

    // After the migration, someone sets SubnetLen (flanneld ignores it with --kube-subnet-mgr) and adds a key.
    const edited = withNetConf(data(cluster)[NET_CONF_KEY]!, (c) => {
      c.SubnetLen = 24;
    });
    await patch(cluster, { data: { [NET_CONF_KEY]: edited, 'notes.txt': 'owned by the network team\n' } });
    // And another key lands between the rollback's GET and PUT.
    api.faults.beforeNext({ method: 'PUT', path: CM_PATH, body: /rolled-back/ }, () =>
      patch(cluster, { data: { 'late.txt': 'racing edit' } }),
    );
    api.requests.clear();
    const r = await migrate(cluster, e, '--rollback', '-o', 'json');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const result = json(r.stdout);
    assert.equal(result.outcome, 'rolled-back');
    assert.match(result.message, /vxlan Backend restored from the backup \(other edits kept\)/);
    assert.ok(
      api.requests.records.some((x) => x.method === 'PUT' && x.status === 409),
      'the racing edit made the first PUT fail with 409',
    );
    const conf = netConf(cluster);
    assert.deepEqual(
      conf.Backend,
      JSON.parse(original[NET_CONF_KEY]!).Backend,
      'the Backend is the backup one',
    );
    assert.equal(conf.SubnetLen, 24, "the other writer's net-conf edit is kept");
    assert.equal(conf.Network, JSON.parse(original[NET_CONF_KEY]!).Network);
    assert.equal(data(cluster)['notes.txt'], 'owned by the network team\n');
    assert.equal(
      data(cluster)['late.txt'],
      'racing edit',
      'the edit that raced the PUT is kept (re-read, re-checked)',
    );
    assert.equal(data(cluster)['cni-conf.json'], original['cni-conf.json']);
    assert.deepEqual(binaryData(cluster), { 'blob.bin': BLOB });
    for (const n of NODES) assert.equal(backendOf(cluster, n), 'vxlan');
    assert.equal(phase(cluster), 'rolled-back');
  },
);

test(
  'a Backend changed since flannelctl wrote it: rollback stops with a three-way diff; --restore-backup restores it all',
  { skip },
  async (t) => {
    const cluster = await start();
    t.after(() => cluster.close());
    const api = cluster.flannel.api;
    const e = env();
    await patch(cluster, { binaryData: { 'blob.bin': BLOB } });
    const original = { ...data(cluster) };
    const m = await migrate(cluster, e, '--to', 'host-gw');
    assert.equal(m.code, 0, m.stderr + m.stdout);

    const theirs = withNetConf(data(cluster)[NET_CONF_KEY]!, (c) => {
      c.Backend = { Type: 'vxlan', VNI: 4 };
    });
    await patch(cluster, {
      data: { [NET_CONF_KEY]: theirs, 'notes.txt': 'x' },
      binaryData: { 'blob.bin': null },
    });
    api.requests.clear();
    const r = await migrate(cluster, e, '--rollback');
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(
      r.stderr,
      /refusing to roll back configmap kube-flannel\/kube-flannel-cfg: the Backend was changed by someone else after flannelctl wrote it; nothing was changed/,
    );
    assert.match(
      r.stderr,
      /what flannelctl changed \(backup taken .* -> written by flannelctl\):[\s\S]*- {4}"Type": "vxlan"\n\+ {4}"Type": "host-gw"/,
    );
    assert.match(
      r.stderr,
      /what changed since \(written by flannelctl -> current, resourceVersion \d+\):[\s\S]*- {4}"Type": "host-gw"\n\+ {4}"Type": "vxlan",\n\+ {4}"VNI": 4/,
    );
    assert.match(r.stderr, /flannelctl migrate --rollback --restore-backup/);
    assert.equal(r.stderr.split('what changed since').length, 2, 'the difference is printed once');
    assert.deepEqual(api.requests.writes(), [], 'nothing was written');
    assert.equal(data(cluster)[NET_CONF_KEY], theirs);

    const whole = await migrate(cluster, e, '--rollback', '--restore-backup', '-o', 'json');
    assert.equal(whole.code, 0, whole.stderr + whole.stdout);
    assert.match(json(whole.stdout).message, /the whole backup restored byte for byte/);
    assert.deepEqual(data(cluster), original, 'every data key as backed up, the added one gone');
    assert.deepEqual(binaryData(cluster), { 'blob.bin': BLOB }, 'binaryData restored');
    for (const n of NODES) assert.equal(backendOf(cluster, n), 'vxlan');
  },
);

test('--restore-backup without --rollback is a usage error; --help documents it', async () => {
  const r = await runCli([
    'migrate',
    '--kubeconfig',
    '/nonexistent/kubeconfig',
    '--to',
    'host-gw',
    '--restore-backup',
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--restore-backup is only used with --rollback/);
  const help = await runCli(['migrate', '--help']);
  assert.match(help.stdout, /--restore-backup +with --rollback: restore the whole backup/);
});
