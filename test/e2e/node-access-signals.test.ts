// Signals sent to the real CLI process (bin/flannelctl.js over the esbuild bundle: run `npm run build`
// first) while its node-access objects exist: SIGINT, SIGTERM and SIGHUP each delete every kube-exec pod
// and the daemonset's DaemonSet and ConfigMap before the process ends with 128 + the signal's number;
// with a slow API a second signal ends it at once and prints the exact `kubectl delete` for what is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startVirtualCluster, type VirtualCluster } from '../../src/sim/virtual-cluster.ts';

const BIN = fileURLToPath(new URL('../../bin/flannelctl.js', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const MANAGED = 'app.kubernetes.io/managed-by=flannelctl';
const EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
type Mode = 'kube-exec' | 'daemonset';

/** `kind/name` of every object a run left, as kubectl names them. */
const leftovers = (cluster: VirtualCluster): string[] =>
  (
    [
      ['pods', 'pod'],
      ['daemonsets', 'daemonset'],
      ['configmaps', 'configmap'],
    ] as const
  ).flatMap(([resource, kind]) =>
    cluster.flannel.api.list(resource, undefined, MANAGED).map((o) => `${kind}/${o.metadata!.name!}`),
  );

interface Run {
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
  readonly stderr: () => string;
  readonly kill: (signal: NodeJS.Signals) => void;
  /** Resolves once stderr matches. */
  readonly waitFor: (re: RegExp) => Promise<void>;
}

/** doctor through `mode` with node-2's script hanging: resolves once that script runs. */
const startDoctor = async (cluster: VirtualCluster, mode: Mode): Promise<Run> => {
  let started!: () => void;
  const hanging = new Promise<void>((resolve) => (started = resolve));
  cluster.flannel.api.onNodeExec('node-2', () => {
    started();
    return new Promise(() => undefined);
  });
  const child = spawn(
    process.execPath,
    [BIN, 'doctor', '--node-access', mode, '--kubeconfig', cluster.kubeconfig],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } },
  );
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    for (const l of listeners) l();
  });
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (code, signal) => resolve([code, signal])),
  );
  const waitFor = (re: RegExp): Promise<void> =>
    Promise.race([
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (re.test(stderr)) {
            listeners.delete(check);
            resolve();
          }
        };
        listeners.add(check);
        check();
      }),
      exited.then(() => assert.fail(`the CLI ended before printing ${re}: ${stderr}`)),
    ]);
  await Promise.race([hanging, exited.then(() => assert.fail(`the CLI ended early: ${stderr}`))]);
  return { exited, stderr: () => stderr, kill: (s) => child.kill(s), waitFor };
};

const skip = existsSync(BUNDLE) ? false : 'needs the bundle: run `npm run build` first';

for (const mode of ['kube-exec', 'daemonset'] as const) {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    test(
      `${signal} during a ${mode} run deletes every object it created, then exits ${EXIT[signal]}`,
      { skip },
      async (t) => {
        const cluster = await startVirtualCluster({ nodes: 2, backend: 'host-gw' });
        t.after(() => cluster.close());
        const run = await startDoctor(cluster, mode);
        const before = leftovers(cluster);
        assert.ok(
          before.some((o) => (mode === 'kube-exec' ? o.startsWith('pod/') : o.startsWith('daemonset/'))),
          `the run had created its objects: ${before.join(' ')}`,
        );
        run.kill(signal);
        const [code] = await run.exited;
        assert.equal(code, EXIT[signal], run.stderr());
        assert.match(run.stderr(), new RegExp(`interrupted \\(${signal}\\): deleting the node-access`));
        assert.deepEqual(leftovers(cluster), []);
      },
    );
  }
}

for (const [mode, signal, slow] of [
  ['kube-exec', 'SIGINT', /\/pods\//],
  ['daemonset', 'SIGTERM', /\/daemonsets\//],
] as const) {
  test(
    `${mode}: with a slow API a second ${signal} prints the exact kubectl delete and exits ${EXIT[signal]}`,
    { skip },
    async (t) => {
      const cluster = await startVirtualCluster({ nodes: 2, backend: 'host-gw' });
      t.after(() => cluster.close());
      const run = await startDoctor(cluster, mode);
      // Every delete now hangs for longer than the test waits: the API server is overloaded.
      cluster.flannel.api.faults.addLatency({ method: 'DELETE', path: slow, ms: 15_000 });
      const left = leftovers(cluster);
      run.kill(signal);
      await run.waitFor(/deleting the node-access/);
      run.kill(signal);
      const [code] = await run.exited;
      assert.equal(code, EXIT[signal], run.stderr());
      const line = run
        .stderr()
        .split('\n')
        .find((l) => l.trim().startsWith('kubectl delete'));
      assert.ok(line, `a kubectl delete line: ${run.stderr()}`);
      const [, , dashN, namespace, ...refs] = line.trim().split(' ');
      assert.deepEqual([dashN, namespace], ['-n', 'kube-flannel']);
      // Exactly what is still there: nothing more, nothing less (the deletes never got through).
      // (A DaemonSet's pods go with it: the command names the DaemonSet and its ConfigMap only.)
      const expected = left.filter((o) => (mode === 'daemonset') !== o.startsWith('pod/'));
      assert.deepEqual(refs.sort(), expected.sort());
    },
  );
}

test(
  'SIGHUP with an API too slow to delete: at the deadline the exact kubectl delete, then exit 129',
  { skip },
  async (t) => {
    const cluster = await startVirtualCluster({ nodes: 2, backend: 'host-gw' });
    t.after(() => cluster.close());
    const run = await startDoctor(cluster, 'kube-exec');
    // Longer than the cleanup's 20 s deadline (CLEANUP_DEADLINE_MS): nobody is left to press Ctrl-C again.
    cluster.flannel.api.faults.addLatency({ method: 'DELETE', path: /\/pods\//, ms: 25_000 });
    const pods = leftovers(cluster).filter((o) => o.startsWith('pod/'));
    const sent = Date.now();
    run.kill('SIGHUP');
    const [code] = await run.exited;
    assert.equal(code, 129, run.stderr());
    assert.ok(Date.now() - sent >= 19_000, 'it waited for the deletes up to the deadline');
    assert.match(run.stderr(), /the deletes did not finish within 20s/);
    const line = run
      .stderr()
      .split('\n')
      .find((l) => l.trim().startsWith('kubectl delete -n kube-flannel '));
    assert.deepEqual(line?.trim().split(' ').slice(4).sort(), pods.sort(), run.stderr());
  },
);
