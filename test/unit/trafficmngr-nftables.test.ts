// flannel pkg/trafficmngr/nftables/nftables.go (EnableNFTables): flanneld accepts the Network in its own
// table (table ip flannel-ipv4, chain forward, hook forward, priority filter) and never adds
// FLANNEL-FWD. An nftables accept ends only its own base chain, so a DROP policy in the iptables
// FORWARD chain (iptables-nft: table ip filter) still drops pod traffic: the fix goes into that chain,
// with nft when iptables is iptables-nft. test/lab/nftables-forward-lab.test.ts proves it on the real kernel.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kernelCheck } from '../../src/checks/kernel.ts';
import { buildClusterFacts } from '../../src/facts/cluster-facts.ts';
import type { Iptables } from '../../src/facts/node-facts.ts';
import { configMap, editNode, healthyInput, problems } from '../helpers/cluster-facts-fixtures.ts';

const NFT_FIX =
  'nft insert rule ip filter FORWARD ip daddr 10.244.0.0/16 accept && nft insert rule ip filter FORWARD ip saddr 10.244.0.0/16 accept  # on node-1';

const cluster = (
  enableNFTables: boolean,
  iptables: Iptables,
  nftTables = ['ip filter', 'ip flannel-ipv4'],
) => {
  const input = healthyInput('vxlan');
  const facts = buildClusterFacts({
    ...input,
    api: {
      ...input.api!,
      configMap: configMap({
        Network: '10.244.0.0/16',
        EnableNFTables: enableNFTables,
        Backend: { Type: 'vxlan' },
      }),
    },
  });
  return editNode(facts, 'node-1', (f) => ({ ...f, iptables, nftTables }));
};
const findingsOnNode1 = (facts: ReturnType<typeof cluster>) =>
  kernelCheck.evaluate(facts).filter((f) => f.node === 'node-1');

const NFT = 'v1.8.9 (nf_tables)';

describe('FORWARD chain in nftables mode (EnableNFTables)', () => {
  it('policy DROP fails with an nft fix for the iptables-nft chain, not "restart flanneld for FLANNEL-FWD"', () => {
    const [finding] = findingsOnNode1(
      cluster(true, { version: NFT, forwardPolicy: 'DROP', forwardRules: [] }),
    );
    assert.equal(finding!.code, 'kernel/forward-drop');
    assert.equal(finding!.severity, 'fail');
    assert.equal(finding!.remediation, NFT_FIX);
    assert.doesNotMatch(finding!.message + finding!.remediation, /FLANNEL-FWD|restart/);
    assert.ok(finding!.evidence.includes('nft list tables: ip flannel-ipv4 present'));
  });

  it('passes once the accepts are there (iptables -S shows the nft rules as -A FORWARD … -j ACCEPT)', () => {
    const facts = cluster(true, {
      version: NFT,
      forwardPolicy: 'DROP',
      forwardRules: ['-A FORWARD -s 10.244.0.0/16 -j ACCEPT', '-A FORWARD -d 10.244.0.0/16 -j ACCEPT'],
    });
    assert.deepEqual(problems(kernelCheck.evaluate(facts)), []);
  });

  it('policy ACCEPT without FLANNEL-FWD is the normal nftables-mode state', () => {
    const facts = cluster(true, { version: NFT, forwardPolicy: 'ACCEPT', forwardRules: [] });
    assert.deepEqual(problems(kernelCheck.evaluate(facts)), []);
  });

  it('a REJECT rule in the iptables chain warns with the same nft fix', () => {
    const [finding] = findingsOnNode1(
      cluster(true, {
        version: NFT,
        forwardPolicy: 'ACCEPT',
        forwardRules: ['-A FORWARD -j REJECT --reject-with icmp-host-prohibited'],
      }),
    );
    assert.equal(`${finding!.severity} ${finding!.code}`, 'warn kernel/forward-reject-before-flannel');
    assert.match(finding!.remediation!, new RegExp(`^${NFT_FIX.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}; `));
  });

  it('legacy iptables is not nftables: the fix stays an iptables command', () => {
    const [finding] = findingsOnNode1(
      cluster(true, { version: 'v1.8.9 (legacy)', forwardPolicy: 'DROP', forwardRules: [] }),
    );
    assert.equal(finding!.code, 'kernel/forward-drop');
    assert.match(
      finding!.remediation!,
      /^iptables -I FORWARD 1 -s 10\.244\.0\.0\/16 -j ACCEPT && iptables -I FORWARD 1 -d/,
    );
  });

  it('iptables mode is unchanged: without FLANNEL-FWD a restart of flanneld adds it', () => {
    const [finding] = findingsOnNode1(
      cluster(false, { version: NFT, forwardPolicy: 'DROP', forwardRules: [] }),
    );
    assert.equal(finding!.code, 'kernel/forward-drop');
    assert.match(finding!.remediation!, /restart flanneld, which adds FLANNEL-FWD$/);
  });
});
