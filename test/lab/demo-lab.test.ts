// `flannelctl demo --lab`: the same story on real kernels in network namespaces, over real OpenSSH.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.ts';
import { labRequirement } from '../helpers/requirements.ts';

test(
  'demo --lab: faults found and fixed, live migration to host-gw with no ping lost, clean doctor',
  { skip: labRequirement() },
  async () => {
    const r = await runCli(['demo', '--lab', '--no-color']);
    assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr.slice(-2000));
    const [before, after] = r.stdout.split('━━ Step 5/5') as [string, string];
    assert.match(before, /FAIL {2}rp-filter\/strict-asymmetric {2}node-3/);
    assert.match(before, /FAIL {2}routes\/missing {2}node-2 → node-4/);
    assert.match(before, /Migrated vxlan -> host-gw: 4 node\(s\) converted/);
    const lost = /Connectivity while rolling .*: (\d+)\/(\d+) lost/.exec(before);
    assert.ok(lost, 'the migration reports the pings it sent');
    console.log(`demo --lab: pod-IP pings lost during the migration: ${lost[1]}/${lost[2]}`);
    assert.doesNotMatch(after, /FAIL/);
  },
);
