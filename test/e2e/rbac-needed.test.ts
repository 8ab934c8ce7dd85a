// Every rule `rbac --for X` prints is needed: for each command and --node-access mode, the command
// succeeds as a CI ServiceAccount bound to exactly the printed roles, and with any one rule removed
// (from the ClusterRole or from a Role) it fails with a 403 that names the missing permission.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.ts';
import {
  addCiUser,
  applyList,
  namesPermission,
  printedRbac,
  printedRoles,
  withoutRule,
  type CiUser,
} from '../helpers/rbac.ts';
import { seedNodes, startSimCluster } from '../helpers/sim.ts';
import type { ApiServer } from '../../src/sim/apiserver/index.ts';
import { startVirtualCluster } from '../../src/sim/virtual-cluster.ts';

interface Env {
  readonly api: ApiServer;
  run(ci: CiUser): Promise<CliResult>;
  close(): Promise<void>;
}

interface Case {
  readonly rbacArgs: readonly string[];
  start(): Promise<Env>;
  /**
   * Rules whose 403 the command tolerates in this fixture ("verbs resources" of the ClusterRole):
   * checked to still pass, so a change either way is noticed.
   */
  readonly toleratedWithout?: readonly string[];
}

/** The cluster's flags with the kubeconfig swapped for the CI user's. */
const asUser = (args: string[], kubeconfig: string): string[] => {
  const out = [...args];
  out[out.indexOf('--kubeconfig') + 1] = kubeconfig;
  return out;
};

const doctorOn = (nodeAccess: 'ssh' | 'kube-exec' | 'daemonset'): Case => ({
  rbacArgs: ['--for', 'doctor', '--node-access', nodeAccess],
  start: async () => {
    const cluster = await startVirtualCluster({
      nodes: 2,
      backend: 'host-gw',
      routeCheckIntervalMs: 600_000,
    });
    return {
      api: cluster.flannel.api,
      run: (ci) =>
        runCli(
          nodeAccess === 'ssh'
            ? ['doctor', ...asUser(cluster.cliArgs(), ci.kubeconfig), '-o', 'json']
            : ['doctor', '--node-access', nodeAccess, '--kubeconfig', ci.kubeconfig, '-o', 'json'],
        ),
      close: () => cluster.close(),
    };
  },
});

const CASES: readonly Case[] = [
  doctorOn('ssh'),
  doctorOn('kube-exec'),
  doctorOn('daemonset'),
  {
    rbacArgs: ['--for', 'migrate'],
    start: async () => {
      const cluster = await startVirtualCluster({ nodes: 2, backend: 'vxlan' });
      const env = { FLANNELCTL_BACKUP_DIR: mkdtempSync(join(tmpdir(), 'flannelctl-backups-')) };
      return {
        api: cluster.flannel.api,
        run: (ci) =>
          runCli(
            [
              'migrate',
              ...asUser(cluster.cliArgs(), ci.kubeconfig),
              '--to',
              'host-gw',
              '--cleanup',
              '-o',
              'json',
            ],
            env,
          ),
        close: () => cluster.close(),
      };
    },
    // --cleanup follows stale pods to their Deployment: migrate/cleanup.ts drops a failed ReplicaSet
    // get and names the ReplicaSet instead; the migration itself is done by then.
    toleratedWithout: ['get replicasets'],
  },
  {
    rbacArgs: ['--for', 'install'],
    start: async () => {
      const sim = await startSimCluster({ nodes: seedNodes(3) });
      return {
        api: sim.api,
        run: (ci) => runCli(['install', '--kubeconfig', ci.kubeconfig, '--backend', 'host-gw']),
        close: () => sim.close(),
      };
    },
  },
];

for (const c of CASES) {
  test(`rbac ${c.rbacArgs.join(' ')}: enough, and without any one rule the command stops with a 403 naming it`, async () => {
    const list = await printedRbac(c.rbacArgs);
    const roles = printedRoles(list);
    const dir = mkdtempSync(join(tmpdir(), 'flannelctl-rbac-needed-'));
    const attempt = async (drop?: { role: number; rule: number }) => {
      const env = await c.start();
      try {
        applyList(env.api, list);
        if (drop) withoutRule(env.api, roles[drop.role]!, drop.rule);
        const ci = await addCiUser(env.api, dir);
        return { r: await env.run(ci), ci };
      } finally {
        await env.close();
      }
    };
    const { r: ok } = await attempt();
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    for (const [ri, role] of roles.entries())
      for (const [i, rule] of role.rules.entries()) {
        const what = `${role.kind} ${role.namespace ?? ''}: ${rule.verbs.join(',')} ${rule.resources.join(',')}`;
        const { r, ci } = await attempt({ role: ri, rule: i });
        if (
          role.kind === 'ClusterRole' &&
          c.toleratedWithout?.includes(`${rule.verbs.join(',')} ${rule.resources.join(',')}`)
        ) {
          assert.equal(r.code, 0, `without ${what}:\n${r.stderr}${r.stdout}`);
          continue;
        }
        assert.notEqual(r.code, 0, `passed without ${what}`);
        assert.ok(
          namesPermission(r.stderr + r.stdout, ci.name, rule),
          `without ${what}:\n${r.stderr}${r.stdout}`,
        );
      }
  });
}
