// Labs reach their nodes from the root namespace, so two labs on one machine must not share a subnet.
// A lock file per subnet (owner PID inside) makes parallel runs pick different ones.
import { mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { run } from './command.ts';

const LOCK_DIR = '/run/flannelctl-lab';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const lockPath = (subnet: string): string => join(LOCK_DIR, `${subnet.replace('/', '_')}.lock`);

/** True when we now own the subnet; a lock left by a dead process is taken over. */
const tryLock = (subnet: string, owner: string): boolean => {
  mkdirSync(LOCK_DIR, { recursive: true });
  const path = lockPath(subnet);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid} ${owner}\n`);
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(path, 'utf8').split(' ')[0]);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) return false;
      unlinkSync(path);
    }
  }
  return false;
};

export const releaseSubnet = (subnet: string): void => {
  try {
    const pid = Number(readFileSync(lockPath(subnet), 'utf8').split(' ')[0]);
    if (pid === process.pid) unlinkSync(lockPath(subnet));
  } catch {
    /* already gone */
  }
};

/** Routes of the root namespace that overlap a subnet: the machine's own networks are never used. */
const overlapsHostRoutes = async (subnet: string): Promise<boolean> => {
  const routes = JSON.parse((await run('ip', ['-j', 'route', 'show', 'table', 'all'])).stdout || '[]') as {
    dst?: string;
  }[];
  const [net, bits] = ipaddr.parseCIDR(subnet);
  return routes.some((r) => {
    if (!r.dst || r.dst === 'default' || !r.dst.includes('.')) return false;
    const [dst, dstBits] = r.dst.includes('/') ? ipaddr.parseCIDR(r.dst) : [ipaddr.parse(r.dst), 32];
    if (dst.kind() !== 'ipv4') return false;
    return dst.match(net, bits) || net.match(dst, dstBits);
  });
};

export const CANDIDATE_SUBNETS = Array.from({ length: 23 }, (_, i) => `192.168.${77 + i}.0/24`);

/** Locks the given subnet (must be free) or the first free candidate not in `exclude`. */
export const allocateSubnet = async (
  owner: string,
  wanted: string | undefined,
  exclude: readonly string[] = [],
): Promise<string> => {
  for (const subnet of wanted ? [wanted] : CANDIDATE_SUBNETS.filter((s) => !exclude.includes(s))) {
    if (!tryLock(subnet, owner)) continue;
    if (await overlapsHostRoutes(subnet)) {
      releaseSubnet(subnet);
      continue;
    }
    return subnet;
  }
  throw new Error(
    wanted
      ? `lab: subnet ${wanted} is in use (another lab, a leftover, or a real network); run scripts/lab-cleanup.sh or pick another`
      : 'lab: no free 192.168.77-99.0/24 subnet for a lab; run scripts/lab-cleanup.sh',
  );
};
