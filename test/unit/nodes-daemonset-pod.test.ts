// The DaemonSet runner as the container runs it (a real sh, the ConfigMap as a directory): it runs the
// pod's own node's script, prints the end marker with the exit code, and never runs a name that is not
// a node name; parseBatchLog reads it back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DAEMONSET_RUNNER,
  batchDaemonSet,
  parseBatchLog,
  type BatchObjectsOptions,
} from '../../src/nodes/daemonset-pod.ts';

const MARK = '0123456789abcdef';

const runner = (node: string, files: Record<string, string>, limitSeconds = 60): string => {
  const dir = mkdtempSync(join(tmpdir(), 'flannelctl-ds-runner-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const r = spawnSync('sh', ['-c', DAEMONSET_RUNNER], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        NODE_NAME: node,
        FLANNELCTL_SCRIPTS: dir,
        FLANNELCTL_MARK: MARK,
        FLANNELCTL_LINGER: '0',
        FLANNELCTL_LIMIT: String(limitSeconds),
      },
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

test("the runner runs its node's script with stderr in the log, then the marker with the exit code", () => {
  const log = runner('node-2.example', {
    'node-1': 'echo wrong node\n',
    'node-2.example': 'echo "on $(echo node-2)"\necho oops >&2\nexit 3\n',
  });
  assert.deepEqual(parseBatchLog(log, MARK), { output: 'on node-2\noops\n', exitCode: 3 });
});

test('the runner refuses a name that is not a node name and reports a missing script', () => {
  const evil = runner('../x;touch /tmp/pwned', { x: 'echo ran\n' });
  assert.deepEqual(parseBatchLog(evil, MARK), { output: 'flannelctl: unexpected node name\n', exitCode: 64 });
  const missing = runner('node-9', { 'node-1': 'echo ran\n' });
  assert.deepEqual(parseBatchLog(missing, MARK), {
    output: 'flannelctl: no script for node node-9\n',
    exitCode: 66,
  });
});

test('a script still running at the limit is killed and reported as exit 124 (timeout)', () => {
  const log = runner('node-1', { 'node-1': 'echo started\nsleep 30\necho never\n' }, 1);
  assert.deepEqual(parseBatchLog(log, MARK), { output: 'started\n', exitCode: 124 });
});

test('parseBatchLog waits for the marker and ignores a marker of another run', () => {
  assert.equal(parseBatchLog('half of the output\n', MARK), undefined);
  assert.equal(parseBatchLog('x\n@@ffffffffffffffff DONE 0\n', MARK), undefined);
  assert.deepEqual(parseBatchLog(`@@${MARK} DONE 0\n`, MARK), { output: '', exitCode: 0 });
});

test('the DaemonSet is limited to its nodes, tolerates every taint, is hardened and mounts read-only', () => {
  const o: BatchObjectsOptions = {
    runId: 'abc123',
    batch: 0,
    namespace: 'kube-flannel',
    image: 'ghcr.io/flannel-io/flannel:v0.28.9',
    mark: MARK,
    scripts: new Map([
      ['node-1', 'echo 1\n'],
      ['node-2', 'echo 2\n'],
    ]),
  };
  const ds = batchDaemonSet(o);
  const pod = (
    ds.spec as { template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } }
  ).template;
  assert.equal(ds.metadata?.labels?.['flannelctl.io/node-access'], 'abc123');
  assert.equal(pod.metadata.labels['app.kubernetes.io/managed-by'], 'flannelctl');
  assert.deepEqual(pod.spec.tolerations, [{ operator: 'Exists' }]);
  assert.equal(pod.spec.hostNetwork, true);
  assert.deepEqual(
    JSON.stringify(pod.spec.affinity),
    JSON.stringify({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1', 'node-2'] }] },
          ],
        },
      },
    }),
  );
  const [container] = pod.spec.containers as {
    volumeMounts: { readOnly: boolean }[];
    securityContext: unknown;
    env: { name: string; value?: string }[];
  }[];
  assert.ok(container!.volumeMounts.every((m) => m.readOnly));
  assert.deepEqual(container!.securityContext, {
    privileged: false,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] },
    seccompProfile: { type: 'RuntimeDefault' },
  });
  // The host's /run/flannel must already exist: never created on the host.
  assert.deepEqual(
    (pod.spec.volumes as { hostPath?: unknown }[]).filter((v) => v.hostPath).map((v) => v.hostPath),
    [{ path: '/run/flannel', type: 'Directory' }],
  );
  assert.equal(pod.spec.hostPID, false);
  assert.equal(pod.spec.automountServiceAccountToken, false);
  // The DaemonSet controller refuses activeDeadlineSeconds; the runner's timeout bounds the script.
  assert.equal(pod.spec.activeDeadlineSeconds, undefined);
  assert.equal(container!.env.find((e) => e.name === 'FLANNELCTL_LIMIT')?.value, '600');
});
