// `install --no-ip-masq` on the real kernel with the real bridge plugin. flanneld without --ip-masq
// writes FLANNEL_IPMASQ=false (flannel pkg/subnet/subnet.go WriteSubnetFile); the flannel CNI plugin
// then gives a delegate without "ipMasq" `ipMasq: !FLANNEL_IPMASQ` = true (flannel-io/cni-plugin
// flannel_linux.go doCmdAdd), and the bridge plugin masquerades every pod's traffic leaving its node's
// pod subnet (containernetworking/plugins pkg/ip/ipmasq_iptables_linux.go SetupIPMasq): pods on other
// nodes see the node's address. The rendered objects drive both the lab (the ConfigMap's cni-conf.json
// is the node's conflist, the DaemonSet's flanneld flags decide subnet.env) and doctor's ip-masq check,
// so the check is judged against what the kernel does.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ipMasqCheck } from '../../src/checks/ip-masq.ts';
import { buildClusterFacts } from '../../src/facts/cluster-facts.ts';
import { flanneldContainer, flanneldIpMasq } from '../../src/flannel/flanneld-flags.ts';
import type { KubeObject } from '../../src/flannel/kube-object.ts';
import { renderManifest } from '../../src/flannel/manifest.ts';
import { CNI_CONF_KEY, FLANNEL_NAMESPACE } from '../../src/flannel/names.ts';
import { defaultSubnetEnv, programHostGw, writeSubnetEnv } from '../../src/lab/backends.ts';
import { installCniConf } from '../../src/lab/cni.ts';
import { createLab } from '../../src/lab/lab.ts';
import type { Lab, LabNode, LabPod } from '../../src/lab/types.ts';
import { labRequirement } from '../helpers/requirements.ts';

const skip = labRequirement();
let lab: Lab;
let n1: LabNode, n2: LabNode;

before(async () => {
  if (skip) return;
  lab = await createLab({ nodes: 2, ssh: false, podsPerNode: 0 });
  [n1, n2] = lab.nodes as [LabNode, LabNode];
  await programHostGw(n1, lab.nodes);
  await programHostGw(n2, lab.nodes);
});
after(() => lab?.destroy());

interface Install {
  readonly configMap: KubeObject;
  readonly daemonSet: KubeObject;
}

const rendered = (ipMasq: boolean): Install => {
  const objects = renderManifest({ backend: 'host-gw', ipMasq });
  return {
    configMap: objects.find((o) => o.kind === 'ConfigMap')!,
    daemonSet: objects.find((o) => o.kind === 'DaemonSet')!,
  };
};

const cniConfText = (install: Install): string =>
  (install.configMap as unknown as { data: Record<string, string> }).data[CNI_CONF_KEY]!;

/** What flanneld in this DaemonSet writes as FLANNEL_IPMASQ (its --ip-masq, main.go). */
const flanneldMasqOf = (install: Install): boolean => {
  const spec = install.daemonSet as unknown as { spec: { template: { spec: { containers: unknown } } } };
  const masq = flanneldIpMasq(flanneldContainer(spec.spec.template.spec.containers)!);
  assert.notEqual(masq, null, 'the rendered DaemonSet states --ip-masq either way');
  return masq!;
};

/** install-cni copies cni-conf.json to each node, flanneld writes subnet.env. */
const applyToNodes = (install: Install): void => {
  for (const node of [n1, n2]) {
    installCniConf(node, cniConfText(install));
    writeSubnetEnv(node, { ...defaultSubnetEnv(node, 'host-gw'), FLANNEL_IPMASQ: flanneldMasqOf(install) });
  }
};

/** doctor's ip-masq check on the API objects of this install. */
const doctorSays = (install: Install) => {
  const facts = buildClusterFacts({
    api: {
      nodes: [],
      namespace: FLANNEL_NAMESPACE,
      daemonSet: install.daemonSet,
      configMap: install.configMap,
    },
  });
  const [finding, ...rest] = ipMasqCheck.evaluate(facts);
  assert.deepEqual(rest, []);
  return finding!;
};

/** The source address a TCP server in `to` sees for one connection from `from`. */
const sourceSeenBy = async (from: LabPod, to: LabPod): Promise<string> => {
  const port = 7000 + Math.floor(Math.random() * 1000);
  const server = spawn(
    'ip',
    [
      'netns',
      'exec',
      to.netns,
      process.execPath,
      '-e',
      `const s = require('net').createServer((c) => { console.log(c.remoteAddress); c.end(); s.close(); });
       s.listen(${port}, () => console.log('listening'));
       setTimeout(() => process.exit(3), 20000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: server.stdout })[Symbol.asyncIterator]();
  try {
    assert.equal((await lines.next()).value, 'listening');
    await lab.exec(from.netns, [
      process.execPath,
      '-e',
      `require('net').connect(${port}, '${to.address}').on('connect', function () { this.end(); })`,
    ]);
    const seen = (await lines.next()).value as string | undefined;
    assert.ok(seen, 'the server saw no connection');
    return seen.replace(/^::ffff:/, '');
  } finally {
    server.kill();
  }
};

/** The nat rules the bridge plugin installed for a pod on node 1: its POSTROUTING jump and that chain. */
const bridgeMasqRules = async (pod: LabPod): Promise<string[]> => {
  const rules = (await lab.exec(n1.netns, ['iptables', '-t', 'nat', '-S'])).stdout.split('\n');
  const jump = rules
    .filter((r) => r.startsWith(`-A POSTROUTING -s ${pod.address}/32 `))
    .map((r) => / -j (CNI-\S+)/.exec(r)?.[1])
    .find(Boolean);
  return jump ? rules.filter((r) => r.startsWith(`-A ${jump} `)) : [];
};

/** A pod on each node under this install; what pod 2 sees of pod 1, and node 1's masquerade rules. */
const podToPod = async (install: Install) => {
  applyToNodes(install);
  const pod1 = await lab.addPod(n1.name);
  const pod2 = await lab.addPod(n2.name);
  try {
    return { pod1, source: await sourceSeenBy(pod1, pod2), rules: await bridgeMasqRules(pod1) };
  } finally {
    await lab.deletePod(pod1);
    await lab.deletePod(pod2);
  }
};

test(
  'flanneld without --ip-masq and the default delegate: the bridge plugin SNATs pod traffic to other nodes, and doctor fails it',
  { skip },
  async () => {
    // What `install --no-ip-masq` rendered before: flanneld's flag dropped, the delegate left as is.
    const install = { configMap: rendered(true).configMap, daemonSet: rendered(false).daemonSet };
    assert.doesNotMatch(cniConfText(install), /ipMasq/, 'the default delegate has no ipMasq');
    const { source, rules } = await podToPod(install);
    assert.equal(source, n1.address, "pod 2 sees node 1's address, not pod 1's");
    assert.ok(
      rules.some((r) => /! -d 224\.0\.0\.0\/4 .*-j MASQUERADE/.test(r)),
      `the bridge plugin's CNI-… chain masquerades: ${rules.join('; ')}`,
    );
    assert.ok(
      rules.some((r) => new RegExp(` -d ${n1.podCidr.replace(/\./g, '\\.')} .*-j ACCEPT`).test(r)),
      "only node 1's own pod subnet is exempt",
    );
    const finding = doctorSays(install);
    assert.equal(finding.severity, 'fail');
    assert.equal(finding.code, 'ip-masq/cross-node-snat');
  },
);

test(
  'install --no-ip-masq ("ipMasq": false in the delegate): pod 2 sees pod 1\'s own address, and doctor passes it',
  { skip },
  async () => {
    const install = rendered(false);
    const { pod1, source, rules } = await podToPod(install);
    assert.equal(source, pod1.address);
    assert.deepEqual(rules, [], 'no CNI-… masquerade chain for the pod');
    const finding = doctorSays(install);
    assert.equal(finding.severity, 'pass', finding.message);
  },
);

test(
  'the default install (flanneld --ip-masq): the bridge plugin does not masquerade, and doctor passes it',
  { skip },
  async () => {
    const install = rendered(true);
    const { pod1, source, rules } = await podToPod(install);
    assert.equal(source, pod1.address);
    assert.deepEqual(rules, []);
    assert.equal(doctorSays(install).severity, 'pass');
  },
);
