// What a lab created, recorded as it is created, so teardown works after a partial failure too,
// and process exit/signal handlers that tear down whatever is still up.
import { rmSync } from 'node:fs';
import { runSyncQuiet, tryRun } from './command.ts';
import { releaseSubnet } from './subnet-lock.ts';

export interface LabResources {
  readonly prefix: string;
  /** Created order; deleted in reverse. */
  readonly namespaces: string[];
  readonly pids: number[];
  /** Links in the root namespace. */
  readonly rootLinks: string[];
  readonly subnets: string[];
  dir?: string;
  keepDir?: boolean;
}

const kill = (pid: number, signal: NodeJS.Signals): boolean => {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
};

const alive = (pid: number): boolean => kill(pid, 0 as unknown as NodeJS.Signals);

const pidsIn = async (netns: string): Promise<number[]> => {
  const r = await tryRun('ip', ['netns', 'pids', netns]);
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
};

/**
 * Namespaces named `<prefix>-…` that are not recorded: pod sandboxes made by the pod runner, which has
 * no hand in the lab's bookkeeping. Listed so a Ctrl-C (the synchronous path) removes them too.
 */
const unrecorded = (res: LabResources, listing: string): string[] =>
  listing
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter((ns) => ns.startsWith(`${res.prefix}-`) && !res.namespaces.includes(ns));

export const teardown = async (res: LabResources): Promise<void> => {
  const errors: string[] = [];
  // Sandboxes first: they hang off the node namespaces' bridges.
  res.namespaces.push(...unrecorded(res, (await tryRun('ip', ['netns', 'list'])).stdout));
  // Our sshds, plus anything a test started inside the namespaces (iperf3 -D, ping …).
  const pids = new Set(res.pids);
  for (const ns of res.namespaces) for (const pid of await pidsIn(ns)) pids.add(pid);
  for (const pid of pids) kill(pid, 'SIGTERM');
  const deadline = Date.now() + 2000;
  while ([...pids].some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  for (const pid of pids) if (alive(pid)) kill(pid, 'SIGKILL');
  for (const ns of [...res.namespaces].reverse()) {
    const r = await tryRun('ip', ['netns', 'del', ns]);
    if (r.code !== 0 && !/No such file|not exist/i.test(r.stderr)) errors.push(`${ns}: ${r.stderr.trim()}`);
  }
  for (const link of res.rootLinks) {
    const r = await tryRun('ip', ['link', 'show', link]);
    if (r.code !== 0) continue;
    // Deleting the switch namespace destroys the veth pair asynchronously: gone by now is fine.
    const del = await tryRun('ip', ['link', 'del', link]);
    if (del.code !== 0 && (await tryRun('ip', ['link', 'show', link])).code === 0)
      errors.push(`${link}: ${del.stderr.trim()}`);
  }
  for (const subnet of res.subnets) releaseSubnet(subnet);
  if (res.dir && !res.keepDir) rmSync(res.dir, { recursive: true, force: true });
  res.namespaces.length = 0;
  res.pids.length = 0;
  res.rootLinks.length = 0;
  res.subnets.length = 0;
  if (errors.length) throw new Error(`lab teardown left things behind:\n${errors.join('\n')}`);
};

/** The synchronous version for 'exit' and signal handlers. */
export const teardownSync = (res: LabResources): void => {
  res.namespaces.push(...unrecorded(res, runSyncQuiet('ip', ['netns', 'list'])));
  for (const ns of res.namespaces) {
    for (const pid of runSyncQuiet('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
      kill(Number(pid), 'SIGKILL');
    }
  }
  for (const pid of res.pids) kill(pid, 'SIGKILL');
  for (const ns of [...res.namespaces].reverse()) runSyncQuiet('ip', ['netns', 'del', ns]);
  for (const link of res.rootLinks) runSyncQuiet('ip', ['link', 'del', link]);
  for (const subnet of res.subnets) releaseSubnet(subnet);
  if (res.dir && !res.keepDir) rmSync(res.dir, { recursive: true, force: true });
  res.namespaces.length = 0;
};

const active = new Set<LabResources>();
let handlersInstalled = false;
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const onExit = (): void => {
  for (const res of active) teardownSync(res);
  active.clear();
};

const onSignal = (signal: NodeJS.Signals): void => {
  onExit();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  // Die of the same signal, as if we had never caught it.
  process.kill(process.pid, signal);
};

export const track = (res: LabResources): void => {
  active.add(res);
  if (!handlersInstalled) {
    handlersInstalled = true;
    process.on('exit', onExit);
    for (const s of SIGNALS) process.on(s, onSignal);
  }
};

export const untrack = (res: LabResources): void => {
  active.delete(res);
  if (active.size === 0 && handlersInstalled) {
    handlersInstalled = false;
    process.removeListener('exit', onExit);
    for (const s of SIGNALS) process.removeListener(s, onSignal);
  }
};
