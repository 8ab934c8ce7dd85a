// The lab's fault injectors produce the real kernel symptoms doctor must find, and undo them; the lab
// cleans up after a process that dies of a signal.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { labRequirement } from '../helpers/requirements.ts';
import { createLab } from '../../src/lab/lab.ts';
import { programHostGwAll } from '../../src/lab/backends.ts';
import {
  injectDeletedRoute,
  injectIpForwardOff,
  injectLowerMtu,
  injectStaleFlannelVxlan,
  injectStrictRpFilterAsymmetric,
} from '../../src/lab/faults.ts';
import type { Lab, LabNode } from '../../src/lab/types.ts';

const skip = labRequirement();
let lab: Lab;
let n1: LabNode, n2: LabNode, n3: LabNode;

before(async () => {
  if (skip) return;
  lab = await createLab({ nodes: 3, ssh: false });
  [n1, n2, n3] = lab.nodes as [LabNode, LabNode, LabNode];
  await programHostGwAll(lab.nodes);
  await lab.startPods(1);
});
after(() => lab?.destroy());

const ping = async (from: LabNode, to: LabNode, size?: number): Promise<boolean> =>
  (
    await lab.tryExec(from.pods[0]!.netns, [
      'ping',
      '-c',
      '1',
      '-W',
      '1',
      ...(size ? ['-M', 'do', '-s', String(size)] : []),
      to.pods[0]!.address,
    ])
  ).code === 0;

const peerOf = (n: LabNode) => ({ name: n.name, address: n.address, podCidr: n.podCidr });

test(
  'strict rp_filter with an asymmetric second NIC drops pod traffic; loose mode would not',
  { skip },
  async () => {
    assert.ok(await ping(n1, n2));
    const undo = await injectStrictRpFilterAsymmetric(lab, n2, peerOf(n1));
    assert.equal(await ping(n1, n2), false, 'strict rp_filter drops it');
    await lab.exec(n2.netns, ['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=2']);
    await lab.exec(n2.netns, ['sysctl', '-qw', 'net.ipv4.conf.eth1.rp_filter=2']);
    await lab.exec(n2.netns, ['sysctl', '-qw', 'net.ipv4.conf.eth0.rp_filter=2']);
    assert.ok(await ping(n1, n2), 'loose rp_filter lets the same routing work');
    await undo();
    assert.ok(await ping(n1, n2));
  },
);

test('a lower MTU on one node breaks full-size packets to it only', { skip }, async () => {
  assert.ok(await ping(n1, n3, 1472));
  const undo = await injectLowerMtu(n3, 1400);
  assert.equal(await ping(n1, n3, 1472), false);
  assert.ok(await ping(n1, n3, 1372));
  assert.ok(await ping(n1, n2, 1472));
  await undo();
  assert.ok(await ping(n1, n3, 1472));
});

test('a deleted route and ip_forward off each break pod traffic until undone', { skip }, async () => {
  const undoRoute = await injectDeletedRoute(n1, n2.podCidr);
  assert.equal(await ping(n1, n2), false);
  await undoRoute();
  assert.ok(await ping(n1, n2));
  const undoForward = await injectIpForwardOff(n3);
  assert.equal(await ping(n1, n3), false);
  await undoForward();
  assert.ok(await ping(n1, n3));
});

test('a stale flannel.1 under host-gw is there to be found', { skip }, async () => {
  const undo = await injectStaleFlannelVxlan(n2);
  const shown = await lab.tryExec(n2.netns, ['ip', '-d', 'link', 'show', 'flannel.1']);
  assert.match(shown.stdout, /vxlan id 1 local .* dstport 8472/);
  assert.ok(await ping(n1, n2), 'host-gw still carries the traffic');
  await undo();
  assert.notEqual((await lab.tryExec(n2.netns, ['ip', 'link', 'show', 'flannel.1'])).code, 0);
});

test('a process killed by SIGTERM leaves no lab behind', { skip }, async () => {
  const labModule = fileURLToPath(new URL('../../src/lab/lab.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { createLab } = await import(${JSON.stringify(labModule)});
       const lab = await createLab({ nodes: 2 });
       console.log(lab.prefix);
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const prefix = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', (code) => reject(new Error(`child exited ${code} before its lab was up`)));
  });
  assert.match(prefix, /^flab[0-9a-f]{4}$/);
  const before = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  assert.ok(before.includes(`${prefix}-node-2`), 'the lab was up');
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  child.kill('SIGTERM');
  assert.equal(await exited, 'SIGTERM', 'the child still dies of the signal');
  const afterList = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  assert.ok(!afterList.includes(prefix), afterList);
  assert.doesNotMatch(
    spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout,
    new RegExp(`: ${prefix}`),
  );
});
