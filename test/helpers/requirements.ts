// Guards for tests that need root (network namespaces, sshd) or a kubectl binary.
// Locally a missing prerequisite skips the test with a reason; in CI (FLANNELCTL_REQUIRE_*=1) it fails,
// so a lab suite can never pass by silently skipping.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const required = (name: string): boolean => {
  const value = process.env[name];
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
};

const guard = (envName: string, reason: string | undefined): string | undefined => {
  if (reason === undefined) return undefined;
  if (required(envName)) throw new Error(`${envName} is set but ${reason}`);
  return reason;
};

const labReason = (): string | undefined => {
  if (process.platform !== 'linux') return 'lab tests need Linux network namespaces';
  if (process.getuid?.() !== 0) return 'lab tests need root (network namespaces); run as root or in CI';
  const ip = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (ip.status !== 0) return 'lab tests need iproute2 (`ip`) on PATH';
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return 'lab tests need `ip netns` to work';
  if (!existsSync('/usr/sbin/sshd'))
    return 'lab tests need OpenSSH server (/usr/sbin/sshd): apt-get install openssh-server';
  if (spawnSync('ping', ['-V']).status !== 0) return 'lab tests need ping: apt-get install iputils-ping';
  if (spawnSync('iperf3', ['--version']).status !== 0) return 'lab tests need iperf3: apt-get install iperf3';
  if (!existsSync('/usr/lib/cni/bridge'))
    return 'lab tests need the CNI plugins (/usr/lib/cni): apt-get install containernetworking-plugins';
  return undefined;
};

const netnsReason = (): string | undefined => {
  if (process.platform !== 'linux') return 'lab tests need Linux network namespaces';
  if (process.getuid?.() !== 0) return 'lab tests need root (network namespaces); run as root or in CI';
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return 'lab tests need `ip netns` to work';
  return undefined;
};

/**
 * For lab tests that need only root and network namespaces (no sshd, no ping): skip reason, or throws
 * when FLANNELCTL_REQUIRE_LAB is set.
 */
export const netnsRequirement = (): string | undefined => guard('FLANNELCTL_REQUIRE_LAB', netnsReason());

/** Skip reason when network-namespace lab tests cannot run; throws when FLANNELCTL_REQUIRE_LAB is set. */
export const labRequirement = (): string | undefined => guard('FLANNELCTL_REQUIRE_LAB', labReason());

/** Skip reason when no kubectl is on PATH; throws when FLANNELCTL_REQUIRE_KUBECTL is set. */
export const kubectlRequirement = (): string | undefined => {
  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  const reason =
    kubectl.status === 0 ? undefined : 'kubectl is not installed (interop tests need a kubectl client)';
  return guard('FLANNELCTL_REQUIRE_KUBECTL', reason);
};
