// Lab pods are created the way kubelet with flannel creates them: flannel's CNI step over the node's
// subnet.env and conflist, then the real bridge/host-local/portmap plugins. What a user sees on a real
// node follows: no cni0 before the first pod, cni0 kept after the last, the delegate's MTU on the pod,
// a clear sandbox error when flannel has not written subnet.env, addresses handed back on DEL.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { labRequirement } from '../helpers/requirements.ts';
import { createLab } from '../../src/lab/lab.ts';
import { defaultSubnetEnv, programHostGw, writeSubnetEnv } from '../../src/lab/backends.ts';
import type { Lab, LabNode } from '../../src/lab/types.ts';

const skip = labRequirement();
let lab: Lab;
let n1: LabNode, n2: LabNode;

before(async () => {
  if (skip) return;
  lab = await createLab({ nodes: 2, ssh: false, podsPerNode: 0 });
  [n1, n2] = lab.nodes as [LabNode, LabNode];
});
after(() => lab?.destroy());

const link = async (netns: string, name: string): Promise<{ mtu: number } | undefined> => {
  const r = await lab.tryExec(netns, ['ip', '-j', 'link', 'show', name]);
  return r.code === 0 ? (JSON.parse(r.stdout) as { mtu: number }[])[0] : undefined;
};

test(
  "no subnet.env: the sandbox fails with flannel CNI plugin's own message, nothing is left",
  { skip },
  async () => {
    await assert.rejects(lab.addPod(n1.name), (error: Error) => {
      assert.match(error.message, /no networks found in .*net\.d/, 'no conflist yet: kubelet has no network');
      return true;
    });
    writeSubnetEnv(n1, defaultSubnetEnv(n1, 'vxlan'));
    // The conflist is there now (install-cni's part); without subnet.env the error is flannel's plugin's.
    rmSync(`${n1.runDir}/subnet.env`);
    await assert.rejects(
      lab.addPod(n1.name),
      /plugin type="flannel" failed \(add\): failed to load flannel 'subnet.env' file: open \/run\/flannel\/subnet.env: no such file or directory/,
    );
    assert.equal(await link(n1.netns, 'cni0'), undefined, 'no cni0 without a pod');
    assert.deepEqual(n1.pods, []);
  },
);

test(
  'cni0 appears with the first pod, at FLANNEL_MTU, with the gateway address; it stays after the last pod',
  { skip },
  async () => {
    writeSubnetEnv(n1, defaultSubnetEnv(n1, 'vxlan'));
    writeSubnetEnv(n2, defaultSubnetEnv(n2, 'host-gw'));
    assert.equal(await link(n1.netns, 'cni0'), undefined);
    const pod = await lab.addPod(n1.name);
    assert.match(pod.address, /^10\.244\.1\.\d+$/);
    assert.equal((await link(n1.netns, 'cni0'))?.mtu, 1450, 'cni0 created at the delegate MTU (FLANNEL_MTU)');
    assert.equal((await link(pod.netns, 'eth0'))?.mtu, 1450, "the pod's eth0 has FLANNEL_MTU");
    const addr = await lab.exec(n1.netns, ['ip', '-j', '-4', 'addr', 'show', 'cni0']);
    assert.match(addr.stdout, /"local":"10\.244\.1\.1","prefixlen":24/, 'isGateway: cni0 has the subnet .1');
    const routes = await lab.exec(pod.netns, ['ip', '-j', 'route']);
    assert.match(routes.stdout, /"dst":"default","gateway":"10\.244\.1\.1"/, 'isDefaultGateway');
    assert.match(
      routes.stdout,
      /"dst":"10\.244\.0\.0\/16","gateway":"10\.244\.1\.1"/,
      'the route to FLANNEL_NETWORK',
    );
    await lab.deletePod(pod);
    assert.equal(
      await lab.tryExec(pod.netns, ['true']).then((r) => r.code === 0),
      false,
      'the namespace is gone',
    );
    assert.ok(await link(n1.netns, 'cni0'), 'the bridge plugin never deletes cni0');
    const again = await lab.addPod(n1.name);
    assert.notEqual(again.address, '', 'host-local handed out an address again');
    await lab.deletePod(again);
  },
);

test(
  'pods on two host-gw nodes reach each other through cni0, the routes and FORWARD',
  { skip },
  async () => {
    writeSubnetEnv(n1, defaultSubnetEnv(n1, 'host-gw'));
    writeSubnetEnv(n2, defaultSubnetEnv(n2, 'host-gw'));
    await programHostGw(n1, lab.nodes);
    await programHostGw(n2, lab.nodes);
    const [a, b] = [await lab.addPod(n1.name), await lab.addPod(n2.name)];
    assert.equal((await link(a.netns, 'eth0'))?.mtu, 1500);
    const ping = await lab.tryExec(a.netns, ['ping', '-c', '1', '-W', '2', b.address]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    await lab.deletePod(a);
    await lab.deletePod(b);
  },
);
