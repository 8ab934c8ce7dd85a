// `rbac --for bench` is exactly enough, proven where bench really runs: on a lab whose pods are real
// iperf3/ping processes, as a CI ServiceAccount bound to the printed roles with RBAC enforced. With all
// of them bench measures; with any one rule removed it stops with a 403 naming that rule. The events
// rules only matter when a pod fails: a bench whose image cannot be pulled quotes the pod's Events
// with the rule and none without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labRequirement } from '../helpers/requirements.ts';
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
import { createLab } from '../../src/lab/lab.ts';
import { startSimulatedFlannel } from '../../src/sim/flannel-agent/index.ts';
import { startPodRunner } from '../../src/sim/pod-runner/index.ts';

const skip = labRequirement();

interface Case {
  readonly rbacArgs: readonly string[];
  readonly benchArgs: readonly string[];
}

const CASES: readonly Case[] = [
  { rbacArgs: ['--for', 'bench'], benchArgs: [] },
  {
    rbacArgs: ['--for', 'bench', '--bench-mode', 'host', '--node-access', 'kube-exec'],
    benchArgs: ['--mode', 'host', '--node-access', 'kube-exec'],
  },
  {
    rbacArgs: ['--for', 'bench', '--bench-mode', 'both', '--node-access', 'daemonset'],
    benchArgs: ['--mode', 'both', '--node-access', 'daemonset'],
  },
];

const isEventsRule = (rule: { resources: string[]; verbs: string[] }): boolean =>
  rule.resources.includes('events');

for (const c of CASES) {
  test(
    `rbac ${c.rbacArgs.join(' ')}: bench measures with it, and without any one rule stops with a 403 naming it`,
    { skip },
    async () => {
      const lab = await createLab({ nodes: 2, ssh: false });
      const sim = await startSimulatedFlannel({ lab, backend: 'host-gw' });
      const runner = startPodRunner({ api: sim.api, lab });
      const dir = mkdtempSync(join(tmpdir(), 'flannelctl-bench-rbac-'));
      try {
        const list = await printedRbac(c.rbacArgs);
        applyList(sim.api, list);
        const ci: CiUser = await addCiUser(sim.api, dir);
        const bench = (extra: string[] = []): Promise<CliResult> =>
          runCli([
            'bench',
            '--kubeconfig',
            ci.kubeconfig,
            ...c.benchArgs,
            ...['--from', 'node-1', '--to', 'node-2', '-t', '1', '--repeat', '1', '--latency-count', '1'],
            ...['--timeout', '10s', ...extra],
          ]);
        // An image no registry serves: the server pod fails at once with ErrImagePull, in its Events. In
        // flannel's namespace it is the host path's server that fails (a later --mode wins).
        const failing = (namespace?: string) =>
          bench([
            '--image',
            'registry.invalid/iperf3',
            ...(namespace === sim.namespace ? ['--mode', 'host'] : []),
          ]);

        const ok = await bench(['-o', 'json']);
        assert.equal(ok.code, 0, ok.stderr);
        const measured = JSON.parse(ok.stdout) as { results: { tcp: { gbps: { median: number } } }[] };
        for (const path of measured.results) assert.ok(path.tcp.gbps.median > 0, 'throughput measured');
        const withEvents = await failing();
        assert.equal(withEvents.code, 1, withEvents.stderr);
        assert.match(
          withEvents.stderr,
          /^ {4}Failed: Failed to pull image "registry\.invalid\/iperf3"/m,
          'the Events are quoted',
        );

        for (const role of printedRoles(list))
          for (const [i, rule] of role.rules.entries()) {
            const what = `${role.kind} ${role.namespace ?? ''}: ${rule.verbs.join(',')} ${rule.resources.join(',')}`;
            const restore = withoutRule(sim.api, role, i);
            try {
              if (isEventsRule(rule)) {
                const r = await failing(role.namespace);
                assert.equal(r.code, 1, r.stderr);
                assert.match(
                  r.stderr,
                  /ErrImagePull|registry\.invalid/,
                  `without ${what}: the failure itself`,
                );
                assert.doesNotMatch(r.stderr, /events:/, `without ${what}: no Events can be read`);
                continue;
              }
              const r = await bench();
              assert.notEqual(r.code, 0, `passed without ${what}`);
              assert.ok(namesPermission(r.stderr + r.stdout, ci.name, rule), `without ${what}:\n${r.stderr}`);
            } finally {
              restore();
            }
          }
      } finally {
        await runner.close();
        await sim.close();
        await lab.destroy();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}
