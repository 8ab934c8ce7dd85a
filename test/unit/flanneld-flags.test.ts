import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flanneldContainer, flanneldIpMasq } from '../../src/flannel/flanneld-flags.ts';

const flanneld = (args: string[], extra: { command?: string[]; env?: unknown[] } = {}) => ({
  name: 'kube-flannel',
  command: extra.command ?? ['/opt/bin/flanneld'],
  args,
  ...(extra.env ? { env: extra.env } : {}),
});

// flannel main.go: flag.NewFlagSet + BoolVar("ip-masq", false); Go's flag package takes -x and --x,
// =value through strconv.ParseBool, the last occurrence, and stops at the first non-flag argument.
test('reads --ip-masq the way Go flag parsing does', () => {
  assert.equal(flanneldIpMasq(flanneld(['--ip-masq', '--kube-subnet-mgr'])), true);
  assert.equal(flanneldIpMasq(flanneld(['--kube-subnet-mgr'])), false);
  assert.equal(flanneldIpMasq(flanneld(['-ip-masq=1'])), true);
  assert.equal(flanneldIpMasq(flanneld(['--ip-masq=True'])), true);
  assert.equal(flanneldIpMasq(flanneld(['--ip-masq', '--ip-masq=false'])), false);
  assert.equal(flanneldIpMasq(flanneld(['--ip-masq=F'])), false);
  assert.equal(flanneldIpMasq(flanneld(['--kube-subnet-mgr', 'extra', '--ip-masq'])), false);
  assert.equal(flanneldIpMasq(flanneld(['--ip-masq=yes'])), null);
  // No command: the image ENTRYPOINT (/opt/bin/flanneld) gets the args.
  assert.equal(flanneldIpMasq({ name: 'kube-flannel', args: ['--ip-masq'] }), true);
  // Flags in command count too; a shell wrapper hides them.
  assert.equal(flanneldIpMasq({ command: ['/opt/bin/flanneld', '--ip-masq'] }), true);
  assert.equal(flanneldIpMasq(flanneld([], { command: ['/bin/sh', '-c', 'exec flanneld --ip-masq'] })), null);
});

// coreos/pkg flagutil.SetFlagsFromEnv (called from flannel main.go with prefix FLANNELD) sets only
// flags the command line left unset, and skips empty values.
test('FLANNELD_IP_MASQ applies only when the command line does not set the flag', () => {
  const env = (value: unknown) => [{ name: 'FLANNELD_IP_MASQ', ...(value as object) }];
  assert.equal(flanneldIpMasq(flanneld(['--kube-subnet-mgr'], { env: env({ value: 'true' }) })), true);
  assert.equal(flanneldIpMasq(flanneld(['--ip-masq=false'], { env: env({ value: 'true' }) })), false);
  assert.equal(flanneldIpMasq(flanneld([], { env: env({ value: '' }) })), false);
  assert.equal(
    flanneldIpMasq(flanneld([], { env: env({ valueFrom: { configMapKeyRef: { name: 'x', key: 'y' } } }) })),
    null,
  );
});

test('picks the kube-flannel container, else the first', () => {
  assert.equal(flanneldContainer([{ name: 'sidecar' }, { name: 'kube-flannel' }])?.name, 'kube-flannel');
  assert.equal(flanneldContainer([{ name: 'only' }])?.name, 'only');
  assert.equal(flanneldContainer(undefined), undefined);
});
