// The commands check-rpfilter --fix and tune --apply send to nodes: exactly the check's remediation,
// refusing anything that is not a plain setting, and run the same way by the virtual node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TUNE_SYSCTL_FILE } from '../../src/checks/tune.ts';
import {
  formatSysctlDryRun,
  sysctlChangeCommands,
  type SysctlChange,
} from '../../src/diagnose/sysctl-change.ts';
import { looseRpFilterSettings } from '../../src/checks/rp-filter.ts';
import { createVirtualNode } from '../../src/sim/virtual-node/create-node.ts';
import { runScript } from '../../src/sim/virtual-node/shell.ts';

const node = { name: 'node-1', address: '192.168.77.11' };
const rpChange = (ifaces: string[]): SysctlChange => ({
  node,
  settings: looseRpFilterSettings(ifaces),
  file: '90-flannelctl-rp-filter.conf',
  header: '# Written by flannelctl check-rpfilter --fix: loose reverse-path filtering for flannel',
});

test('tune: the virtual node sets the values now and writes them, headed, to the drop-in', () => {
  const commands = sysctlChangeCommands({
    node,
    settings: [
      ['net.core.rmem_max', 134217728],
      ['net.core.wmem_max', 134217728],
    ],
    file: TUNE_SYSCTL_FILE,
    header: '# Written by flannelctl tune: host-gw throughput settings',
  });
  assert.equal(commands[0], 'sysctl -w net.core.rmem_max=134217728 net.core.wmem_max=134217728');
  const vnode = createVirtualNode({ name: 'node-1', address: '192.168.77.11', podCIDR: '10.244.1.0/24' });
  for (const c of commands) assert.equal(runScript(vnode, `${c}\n`).code, 0, c);
  assert.equal(vnode.sysctls.get('net/core/rmem_max'), '134217728');
  assert.equal(vnode.sysctls.get('net/core/rmem_default'), '212992', 'what was not named stays');
  assert.equal(
    vnode.files.get(`/etc/sysctl.d/${TUNE_SYSCTL_FILE}`),
    '# Written by flannelctl tune: host-gw throughput settings\nnet.core.rmem_max = 134217728\nnet.core.wmem_max = 134217728\n',
  );
});

test('rp_filter: flannel.1 uses the slash form; the virtual node applies and persists it', () => {
  const vnode = createVirtualNode({
    name: 'node-1',
    address: '192.168.77.11',
    podCIDR: '10.244.1.0/24',
    backend: 'vxlan',
    rpFilter: 1,
  });
  const commands = sysctlChangeCommands(rpChange(['eth0', 'flannel.1']));
  assert.equal(
    commands[0],
    'sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.eth0.rp_filter=2 net/ipv4/conf/flannel.1/rp_filter=2',
  );
  for (const c of commands) assert.equal(runScript(vnode, `${c}\n`).code, 0, c);
  assert.equal(vnode.sysctls.get('net/ipv4/conf/flannel.1/rp_filter'), '2');
  assert.equal(vnode.sysctls.get('net/ipv4/conf/cni0/rp_filter'), '1');
  assert.match(
    vnode.files.get('/etc/sysctl.d/90-flannelctl-rp-filter.conf')!,
    /\nnet\/ipv4\/conf\/flannel\.1\/rp_filter = 2\n$/,
  );
});

test('interface names from a node are never put in a command unless they are plain names', () => {
  for (const bad of ["eth0'; reboot; '", 'eth0 x', '-x', 'a/b', 'x'.repeat(16), '$(id)']) {
    assert.throws(() => sysctlChangeCommands(rpChange([bad])), /refusing/, bad);
  }
  assert.throws(() => sysctlChangeCommands({ ...rpChange(['eth0']), file: '../../etc/passwd' }), /refusing/);
  assert.doesNotThrow(() => sysctlChangeCommands(rpChange(['eth0.100', 'ens3f0', 'flannel.1'])));
});

test('dry-run text: nodes with the same commands share one block', () => {
  const text = formatSysctlDryRun([
    rpChange(['eth0']),
    { ...rpChange(['eth0']), node: { name: 'node-2', address: '192.168.77.12' } },
    { ...rpChange(['ens3']), node: { name: 'node-3', address: '192.168.77.13' } },
  ]);
  assert.match(text, /^# node-1, node-2\nsysctl -w .*eth0/);
  assert.match(text, /\n\n# node-3\nsysctl -w .*ens3/);
});

test('virtual node: a redirect into a missing directory fails as dash does and writes nothing', () => {
  const vnode = createVirtualNode({ name: 'node-1', address: '192.168.77.11', podCIDR: '10.244.1.0/24' });
  assert.deepEqual(runScript(vnode, "printf '%s\\n' a > /nonexistent/x.conf\n"), {
    stdout: '',
    stderr: 'sh: 1: cannot create /nonexistent/x.conf: Directory nonexistent\n',
    code: 2,
  });
  assert.equal(vnode.files.has('/nonexistent/x.conf'), false);
  assert.equal(runScript(vnode, "printf '%s=%d\\n' a 1 b 2").stdout, 'a=1\nb=2\n');
  assert.equal(runScript(vnode, "printf 'x > y\\n'").stdout, 'x > y\n', 'a quoted > is text');
});
