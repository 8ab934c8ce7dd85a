// The lab proof of tune: real kernels in network namespaces, reached over each node's real OpenSSH.
// A lab node is a network namespace like a container's, so the kernel shows it the global buffer
// keys read-only: tune reports them as the host's to set and --apply changes nothing it does not
// recommend, although the per-netns keys (tcp_fastopen, tcp_congestion_control) are writable there.
// A per-netns setting applied against advice on a node reaches neither a pod netns that already
// exists nor one created afterwards (tcp_fastopen: every new netns starts at 1, tcp_sk_init).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { labRequirement } from '../helpers/requirements.ts';
import { TUNE_AGAINST_ADVICE_FILE, TUNE_SETTINGS, TUNE_SYSCTL_FILE } from '../../src/checks/tune.ts';
import { run, tryRun } from '../../src/lab/command.ts';
import { createLab } from '../../src/lab/lab.ts';
import { sysctlDir } from '../../src/lab/sshd.ts';
import type { Lab } from '../../src/lab/types.ts';
import type { Report } from '../../src/report/report.ts';

const skip = labRequirement();

const KEYS = TUNE_SETTINGS.map((t) => t.key).filter((k) => k !== 'net.ipv4.route.max_size');
const path = (key: string) => `/proc/sys/${key.replaceAll('.', '/')}`;

/** Every guide setting as the kernel shows it inside `netns` (null: the root namespace). */
const values = async (netns: string | null): Promise<Record<string, string>> => {
  const read = KEYS.map((k) => `cat ${path(k)}`).join('; ');
  const argv = netns ? ['ip', 'netns', 'exec', netns, 'sh', '-c', read] : ['sh', '-c', read];
  const lines = (await run(argv[0]!, argv.slice(1))).stdout.trim().split('\n');
  return Object.fromEntries(KEYS.map((k, i) => [k, lines[i]!.trim()]));
};

/** Each lab node's sshd has its own /etc/sysctl.d (src/lab/sshd.ts), so drop-ins never reach the host's. */
const ownSysctlDirs = (lab: Lab): Record<string, string> =>
  Object.fromEntries(lab.nodes.map((node) => [node.name, sysctlDir(node.runDir)]));

const hostDropIns = () => readdirSync('/etc/sysctl.d').filter((f) => f.startsWith('90-flannelctl-tune'));

test(
  'tune --apply on lab nodes sets nothing it does not recommend; a per-netns setting applied against advice reaches no pod',
  { skip },
  async (t) => {
    const lab = await createLab({ nodes: 2, podsPerNode: 0 });
    // A pod sandbox is a netns the runtime creates from the root namespace, like this one.
    const pod = `${lab.prefix}-tune-pod`;
    const laterPod = `${lab.prefix}-tune-pod-later`;
    t.after(async () => {
      await tryRun('ip', ['netns', 'del', pod]);
      await tryRun('ip', ['netns', 'del', laterPod]);
      await lab.destroy();
    });
    await run('ip', ['netns', 'add', pod]);
    const dirs = ownSysctlDirs(lab);
    const inventory = join(lab.dir, 'tune-inventory.yaml');
    writeFileSync(
      inventory,
      `nodes:\n${lab.nodes.map((n) => `  - name: ${n.name}\n    address: ${n.address}\n    podCIDR: ${n.podCidr}\n`).join('')}`,
    );
    const sshConfig = join(lab.dir, 'tune-ssh-config');
    writeFileSync(sshConfig, '');
    const tune = (...args: string[]) =>
      runCli([
        'tune',
        '--inventory',
        inventory,
        '--ssh-user',
        'root',
        '--ssh-key',
        lab.ssh!.identityFile,
        '--ssh-known-hosts',
        lab.ssh!.knownHostsFile,
        '--ssh-config',
        sshConfig,
        '--no-color',
        ...args,
      ]);
    const host = await values(null);
    const node1 = await values(lab.node('node-1').netns);
    const node2 = await values(lab.node('node-2').netns);
    const podBefore = await values(pod);
    const dropInsBefore = hostDropIns();

    // The kernel: the global keys are the host's, read-only here; the per-netns ones are writable.
    const denied = await tryRun('ip', [
      'netns',
      'exec',
      lab.node('node-1').netns,
      'sh',
      '-c',
      `echo 300000 > ${path('net.core.rmem_max')}`,
    ]);
    assert.notEqual(denied.code, 0, 'net.core.rmem_max is read-only in a non-initial network namespace');
    for (const key of ['net.core.rmem_max', 'net.core.rmem_default', 'net.netfilter.nf_conntrack_max'])
      assert.equal(node1[key], host[key], `${key} is global`);

    const json = await tune('-o', 'json');
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as Report;
    const hostMax = Number(host['net.core.rmem_max']);
    const expected = hostMax < 134217728 ? 'info tune/host-only' : 'pass tune/ok';
    assert.deepEqual(
      report.findings.map((f) => `${f.severity} ${f.code} ${f.node}`).sort(),
      ['node-1', 'node-2'].map((n) => `${expected} ${n}`),
    );

    const applied = await tune('--apply', '--yes');
    if (expected === 'pass tune/ok') {
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stderr, /nothing to apply/);
    } else {
      // Asked to apply, and no node could: not a success (it used to say "nothing to apply", exit 0).
      assert.equal(applied.code, 1, applied.stderr);
      for (const n of ['node-1', 'node-2'])
        assert.match(
          applied.stderr,
          new RegExp(
            `^${n}: net\\.core\\.rmem_max.* read-only in its network namespace .*: not changed$`,
            'm',
          ),
        );
      assert.match(applied.stderr, /^No node was changed$/m);
      assert.doesNotMatch(applied.stderr, /nothing to apply/);
    }
    assert.deepEqual(await values(lab.node('node-1').netns), node1, 'node-1: nothing it does not recommend');
    assert.deepEqual(await values(lab.node('node-2').netns), node2, 'node-2: nothing it does not recommend');
    assert.deepEqual(await values(null), host, 'the host is untouched');
    assert.deepEqual(readdirSync(dirs['node-1']!), []);

    const refused = await tune('--apply', 'net.ipv4.tcp_fastopen', '--yes');
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /net\.ipv4\.tcp_fastopen is not recommended/);
    assert.equal(
      (await values(lab.node('node-1').netns))['net.ipv4.tcp_fastopen'],
      node1['net.ipv4.tcp_fastopen'],
    );

    // Against advice, on node-1 only: its own netns changes, the pods' do not.
    assert.equal(node1['net.ipv4.tcp_fastopen'], '1', 'a new netns starts at 1');
    const against = await tune(
      '--apply',
      'net.ipv4.tcp_fastopen',
      '--against-advice',
      '--yes',
      '--nodes',
      'node-1',
    );
    assert.equal(against.code, 0, against.stderr);
    assert.deepEqual(await values(lab.node('node-1').netns), { ...node1, 'net.ipv4.tcp_fastopen': '3' });
    assert.deepEqual(await values(lab.node('node-2').netns), node2);
    assert.deepEqual(await values(pod), podBefore, 'a pod that already ran keeps its own value');
    await run('ip', ['netns', 'add', laterPod]);
    assert.equal(
      (await values(laterPod))['net.ipv4.tcp_fastopen'],
      '1',
      'a pod created afterwards starts at 1',
    );
    assert.deepEqual(await values(null), host, 'the host is untouched');
    assert.equal(
      readFileSync(join(dirs['node-1']!, TUNE_AGAINST_ADVICE_FILE), 'utf8'),
      '# Written by flannelctl tune --against-advice: settings flannelctl does not recommend\nnet.ipv4.tcp_fastopen = 3\n',
    );
    assert.equal(existsSync(join(dirs['node-1']!, TUNE_SYSCTL_FILE)), false);
    assert.deepEqual(readdirSync(dirs['node-2']!), []);
    assert.deepEqual(hostDropIns(), dropInsBefore, "nothing was written to the host's /etc/sysctl.d");
  },
);
