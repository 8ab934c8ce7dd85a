// Host-mode bench runs `iperf3 -s -D` as root on a node and later kills the pid in its pid file: the pid
// file must live where no other local user can plant one (a fresh mktemp -d directory), and the stop
// script must remove only that directory. Run for real with the local sh and iperf3.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { pidDirFrom, serverStartScript, serverStopScript } from '../../src/bench/host-driver.ts';
import { labRequirement } from '../helpers/requirements.ts';

const skip = labRequirement();
const sh = (script: string) => spawnSync('sh', ['-c', script], { encoding: 'utf8' });
const alive = (pid: number) => spawnSync('kill', ['-0', String(pid)]).status === 0;

test('the iperf3 server keeps its pid file in a private directory, removed with the server', { skip }, () => {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const start = sh(serverStartScript(port));
  assert.equal(start.status, 0, start.stderr);
  const dir = pidDirFrom(start.stdout);
  assert.ok(dir, `no private directory reported in: ${start.stdout}`);
  const mode = statSync(dir).mode & 0o777;
  assert.equal(mode, 0o700, `pid directory mode ${mode.toString(8)}`);
  const pid = Number(readFileSync(`${dir}/iperf3.pid`, 'utf8').trim());
  assert.ok(alive(pid), 'iperf3 server is running');

  const stop = sh(serverStopScript(dir));
  assert.equal(stop.status, 0, stop.stderr);
  assert.equal(existsSync(dir), false, 'the directory is gone');
  for (let i = 0; i < 50 && alive(pid); i++) spawnSync('sleep', ['0.1']);
  assert.equal(alive(pid), false, 'the server was stopped');
});

test('the stop script refuses any path the start script could not have made', () => {
  for (const path of ['/tmp', '/tmp/flannelctl-bench.x; rm -rf /', '/etc/flannelctl-bench.AAAAAAAAAA', '']) {
    assert.throws(() => serverStopScript(path), /refusing to clean up unexpected path/);
  }
  assert.equal(pidDirFrom('flannelctl-bench-dir=/tmp/../etc\n'), null);
});
