// `flannelctl demo --lab`: the same story on real kernels in network namespaces, over real OpenSSH,
// with the guide's measurement: bench on vxlan, migrate, bench on host-gw, bench compare.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.ts';
import { labRequirement } from '../helpers/requirements.ts';

test(
  'demo --lab: faults found and fixed, bench before and after a live migration to host-gw, clean doctor',
  { skip: labRequirement() },
  async () => {
    const r = await runCli(['demo', '--lab', '--no-color']);
    assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr.slice(-2000));
    const steps = [...r.stdout.matchAll(/━━ Step (\d)\/9: (.*)/g)].map((m) => m[2]);
    assert.deepEqual(steps, [
      'flannelctl doctor',
      'flannelctl check-rpfilter --fix',
      'restart flannel on node-2, node-3',
      'flannelctl bench --mode both --save vxlan.json',
      'flannelctl migrate --to host-gw --watch-connectivity --cleanup',
      'recreate the pods started before the switch',
      'flannelctl bench --mode both --save host-gw.json',
      'flannelctl bench compare vxlan.json host-gw.json',
      'flannelctl doctor',
    ]);
    const [before, after] = r.stdout.split('━━ Step 9/9') as [string, string];
    assert.match(before, /FAIL {2}rp-filter\/strict-asymmetric {2}node-3/);
    assert.match(before, /FAIL {2}routes\/missing {2}node-2 → node-4/);
    assert.match(before, /Migrated vxlan -> host-gw: 4 node\(s\) converted/);
    const lost = /Connectivity while rolling .*: (\d+)\/(\d+) lost/.exec(before);
    assert.ok(lost, 'the migration reports the pings it sent');
    console.log(`demo --lab: pod-IP pings lost during the migration: ${lost[1]}/${lost[2]}`);

    // Both benches measured real traffic on both paths; the comparison has its table, chart and caveat.
    const benches = [...before.matchAll(/^node-\d → node-\d: flannel v[\d.]+ (vxlan|host-gw), MTU (\d+)/gm)];
    assert.deepEqual(
      benches.map((m) => [m[1], m[2]]),
      [
        ['vxlan', '1450'],
        ['host-gw', '1500'],
      ],
    );
    const pods = [...before.matchAll(/^pod\s+(\d+\.\d\d)/gm)].map((m) => Number(m[1]));
    const hosts = [...before.matchAll(/^host\s+(\d+\.\d\d)/gm)].map((m) => Number(m[1]));
    assert.equal(pods.length, 2);
    assert.equal(hosts.length, 2);
    for (const gbps of [...pods, ...hosts]) assert.ok(gbps > 0, 'iperf3 measured a throughput');
    console.log(`demo --lab: pod Gbit/s vxlan ${pods[0]}, host-gw ${pods[1]}; host ${hosts.join(', ')}`);
    assert.match(before, /^host-gw vs vxlan: [+−]\d+% throughput/m);
    assert.match(before, /^vxlan\s+█+\s+\d+\.\d\d Gbit\/s$/m);
    assert.match(before, /^host-gw\s+█+\s+\d+\.\d\d Gbit\/s$/m);
    assert.match(before, /relative to the other, not as what your NICs will do/);
    assert.doesNotMatch(after, /FAIL/);
    assert.doesNotMatch(
      after,
      /mtu\/pod-veth-mismatch|mtu\/cni0-follows-old-pods/,
      'recreated pods took the new MTU',
    );
    assert.match(r.stdout, /bench measured the pod and node paths before and after/);
  },
);
