// flannel pkg/subnet/config.go: CheckNetworkConfig (SubnetLen, SubnetMin/Max, "network is too small")
// runs only with the etcd subnet manager (pkg/subnet/etcd/local_manager.go); with --kube-subnet-mgr
// pkg/subnet/kube/kube.go only calls ParseConfig and the node's podCIDR decides. So in kube mode these
// are warnings, never a doctor failure or a migration blocker; a value that does not parse stays an error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configCheck } from '../../src/checks/config.ts';
import { buildClusterFacts } from '../../src/facts/cluster-facts.ts';
import { parseNetConf } from '../../src/flannel/net-conf.ts';
import { hasErrors } from '../../src/flannel/problem.ts';
import { validateNetConf } from '../../src/flannel/validate-net-conf.ts';
import { runPreflight } from '../../src/migrate/preflight.ts';
import { configMap, healthyInput, problems } from '../helpers/cluster-facts-fixtures.ts';

const IGNORED_IN_KUBE_MODE: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
  ['SubnetLen above 30', { SubnetLen: 31 }],
  ['SubnetLen shorter than prefix + 2', { SubnetLen: 17 }],
  ['SubnetMin outside Network', { SubnetMin: '10.245.0.0' }],
  ['SubnetMax off the SubnetLen boundary', { SubnetMax: '10.244.1.128' }],
  ['SubnetMin above SubnetMax', { SubnetMin: '10.244.9.0', SubnetMax: '10.244.2.0' }],
  ['a Network smaller than /28', { Network: '10.244.0.0/29' }],
];

const conf = (extra: Record<string, unknown>) => ({
  Network: '10.244.0.0/16',
  Backend: { Type: 'vxlan' },
  ...extra,
});

describe('CheckNetworkConfig rules with --kube-subnet-mgr', () => {
  for (const [name, extra] of IGNORED_IN_KUBE_MODE) {
    it(`${name}: an error in etcd mode, a warning naming --kube-subnet-mgr in kube mode`, () => {
      const netConf = parseNetConf(JSON.stringify(conf(extra)));
      assert.equal(hasErrors(validateNetConf(netConf, { subnetManager: 'etcd' })), true);
      const kube = validateNetConf(netConf);
      assert.equal(hasErrors(kube), false, JSON.stringify(kube));
      assert.ok(kube.length > 0, 'still reported');
      for (const p of kube) assert.match(p.message, /ignores this with --kube-subnet-mgr/);
    });
  }

  it('a SubnetMin that is not an address stays an error: ParseConfig itself fails', () => {
    const problemsFound = validateNetConf(parseNetConf(JSON.stringify(conf({ SubnetMin: '10.244.x.0' }))));
    assert.equal(hasErrors(problemsFound), true);
  });

  const withNetConf = (extra: Record<string, unknown>) => {
    const input = healthyInput('vxlan');
    return buildClusterFacts({ ...input, api: { ...input.api!, configMap: configMap(conf(extra)) } });
  };

  it('doctor warns about them (config/net-conf-warning) instead of failing', () => {
    const findings = configCheck.evaluate(withNetConf({ SubnetLen: 26, SubnetMin: '10.244.0.7' }));
    assert.deepEqual(problems(findings), ['warn config/net-conf-warning']);
    assert.match(
      findings[0]!.message,
      /SubnetMin 10\.244\.0\.7 is not on a SubnetLen boundary.*--kube-subnet-mgr/,
    );
  });

  it('they do not block a migration to host-gw', () => {
    const preflight = runPreflight(withNetConf({ SubnetLen: 31 }), { type: 'host-gw', directRouting: false });
    assert.deepEqual(preflight.failures, []);
    assert.equal(preflight.passed, true);
    // The same preflight is blocked by what flanneld does enforce in kube mode.
    const blocked = runPreflight(withNetConf({ Network: '10.99.0.0/16' }), {
      type: 'host-gw',
      directRouting: false,
    });
    assert.equal(blocked.passed, false);
    assert.ok(blocked.failures.some((f) => f.code === 'config/podcidr-outside-network'));
  });
});
