// The lab's container runtime grants what a pod's securityContext asks for, as containerd would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUNTIME_DEFAULT_CAPS, containerCaps, containerPrivArgs } from '../../src/sim/container-caps.ts';
import { nodeAccessPod } from '../../src/nodes/kube-exec-pod.ts';

test('drop ALL keeps only what is added; without drop the runtime default set applies', () => {
  assert.deepEqual(containerCaps({ capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'CAP_NET_RAW'] } }), [
    'NET_ADMIN',
    'NET_RAW',
  ]);
  assert.deepEqual(containerCaps({ capabilities: { add: ['NET_ADMIN'] } }), [
    ...RUNTIME_DEFAULT_CAPS,
    'NET_ADMIN',
  ]);
  assert.ok(!containerCaps({ capabilities: { drop: ['NET_RAW'] } })!.includes('NET_RAW'));
  assert.equal(containerCaps({ privileged: true }), undefined);
  assert.throws(() => containerCaps({ capabilities: { add: ['NET_ADMIN,+sys_admin'] } }), /not a capability/);
});

test("the node-access pod's container runs under setpriv with its two capabilities and no_new_privs", () => {
  const pod = nodeAccessPod({ runId: 'abc123', namespace: 'kube-flannel', node: 'node-1', image: 'flannel' });
  assert.deepEqual(containerPrivArgs(pod, 'node-access'), [
    'setpriv',
    '--bounding-set=-all,+net_admin,+net_raw',
    '--inh-caps=-all',
    '--ambient-caps=-all',
    '--no-new-privs',
    '--',
  ]);
});
