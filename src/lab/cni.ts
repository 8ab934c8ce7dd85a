// Pod networking on a lab node the way kubelet and flannel's CNI plugin do it: the node's conflist
// (what install-cni copied from the ConfigMap's cni-conf.json) is run plugin by plugin, as libcni does
// for a conflist, with the real `bridge`, `host-local` and `portmap` plugins of containernetworking
// (Debian's containernetworking-plugins, /usr/lib/cni). flannel's own plugin is a Go binary we do not
// have; its part — reading subnet.env and building the delegate — is transcribed in
// src/flannel/cni-delegate.ts and its scratch file is kept where it keeps it, so DEL works the same.
// The bridge plugin runs inside the node's namespace, so cni0 appears there with the first pod, takes
// the MTU and masquerade rules the plugin gives it, and is never deleted (bridge.go cmdDel).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildCniConf, serializeCniConf } from '../flannel/cni-conf.ts';
import {
  CniPluginError,
  buildFlannelDelegate,
  parseCniSubnetEnv,
  subnetEnvLoadError,
  type FlannelNetConf,
} from '../flannel/cni-delegate.ts';
import { tryRun } from './command.ts';
import type { LabNode } from './types.ts';

/** Where Debian installs the CNI plugins (upstream's /opt/cni/bin). */
export const CNI_BIN_DIR = '/usr/lib/cni';
export const CONFLIST_NAME = '10-flannel.conflist';

export const cniUnavailableReason = (): string | undefined =>
  existsSync(join(CNI_BIN_DIR, 'bridge'))
    ? undefined
    : `the lab needs the CNI plugins in ${CNI_BIN_DIR}; apt-get install containernetworking-plugins`;

/** A node's CNI directories beside its run dir: its /etc/cni/net.d and /var/lib/cni. */
export const cniPaths = (node: Pick<LabNode, 'runDir'>) => {
  const base = join(dirname(node.runDir), 'cni');
  return {
    confDir: join(base, 'net.d'),
    conflist: join(base, 'net.d', CONFLIST_NAME),
    /** host-local's store (/var/lib/cni/networks). */
    ipamDir: join(base, 'networks'),
    /** flannel's scratch netconfs (/var/lib/cni/flannel). */
    flannelDir: join(base, 'flannel'),
    subnetFile: join(node.runDir, 'subnet.env'),
  };
};

/** What install-cni does at each flannel pod start: copy cni-conf.json to the node's conflist. */
export const installCniConf = (node: LabNode, text?: string): void => {
  const paths = cniPaths(node);
  mkdirSync(paths.confDir, { recursive: true });
  writeFileSync(paths.conflist, text ?? serializeCniConf(buildCniConf()));
};

export interface CniAttachment {
  readonly containerId: string;
  /** Path of the pod's network namespace (CNI_NETNS). */
  readonly netnsPath: string;
  readonly ifname: string;
}

/** A lab pod's CNI identity: its namespace name doubles as the container ID unless one is given. */
export const podAttachment = (netns: string, containerId = netns): CniAttachment => ({
  containerId,
  netnsPath: `/var/run/netns/${netns}`,
  ifname: 'eth0',
});

export interface CniAddResult {
  /** The pod's IPv4 address without prefix, from host-local. */
  readonly address: string;
  /** The CNI result of the last plugin (what kubelet caches). */
  readonly result: Record<string, unknown>;
}

/** A failed ADD/DEL, with the message kubelet would put in the FailedCreatePodSandBox event. */
export class CniError extends Error {
  constructor(
    readonly plugin: string,
    readonly command: 'ADD' | 'DEL',
    readonly detail: string,
  ) {
    super(`plugin type="${plugin}" failed (${command.toLowerCase()}): ${detail}`);
    this.name = 'CniError';
  }
}

interface Conflist {
  name: string;
  cniVersion?: string;
  plugins: Record<string, unknown>[];
}

const readConflist = (node: LabNode): Conflist => {
  const { conflist } = cniPaths(node);
  if (!existsSync(conflist))
    throw new CniError('flannel', 'ADD', `no networks found in ${cniPaths(node).confDir}`);
  return JSON.parse(readFileSync(conflist, 'utf8')) as Conflist;
};

/** Runs one real plugin binary inside the node's namespace with the CNI environment. */
const execPlugin = async (
  node: LabNode,
  type: string,
  command: 'ADD' | 'DEL',
  attachment: CniAttachment,
  conf: Record<string, unknown>,
): Promise<Record<string, unknown>> => {
  if (!/^[a-z0-9-]+$/.test(type)) throw new CniError(type, command, 'invalid plugin type');
  const r = await tryRun(
    'env',
    [
      `CNI_COMMAND=${command}`,
      `CNI_CONTAINERID=${attachment.containerId}`,
      `CNI_NETNS=${attachment.netnsPath}`,
      `CNI_IFNAME=${attachment.ifname}`,
      `CNI_PATH=${CNI_BIN_DIR}`,
      'ip',
      'netns',
      'exec',
      node.netns,
      join(CNI_BIN_DIR, type),
    ],
    JSON.stringify(conf),
  );
  if (r.code !== 0) {
    // A plugin reports errors as a JSON object {code, msg, details} on stdout.
    let detail = r.stderr.trim() || r.stdout.trim();
    try {
      const error = JSON.parse(r.stdout) as { msg?: string; details?: string };
      detail = [error.msg, error.details].filter(Boolean).join('; ');
    } catch {
      /* not JSON */
    }
    throw new CniError(type, command, detail);
  }
  return r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : {};
};

/** flannel's ADD: build the delegate from subnet.env, keep its scratch copy, delegate to bridge. */
const flannelAdd = async (
  node: LabNode,
  attachment: CniAttachment,
  conf: FlannelNetConf,
): Promise<Record<string, unknown>> => {
  const paths = cniPaths(node);
  let envText: string;
  try {
    envText = readFileSync(paths.subnetFile, 'utf8');
  } catch {
    throw new CniError(
      'flannel',
      'ADD',
      subnetEnvLoadError(`open /run/flannel/subnet.env: no such file or directory`),
    );
  }
  let delegate: Record<string, unknown>;
  try {
    delegate = buildFlannelDelegate(conf, parseCniSubnetEnv(envText));
  } catch (error) {
    const detail =
      error instanceof CniPluginError ? subnetEnvLoadError(error.message) : (error as Error).message;
    throw new CniError('flannel', 'ADD', detail);
  }
  const ipam = delegate.ipam as Record<string, unknown>;
  ipam.dataDir ??= paths.ipamDir;
  mkdirSync(paths.flannelDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(paths.flannelDir, attachment.containerId), JSON.stringify(delegate), { mode: 0o600 });
  try {
    return await execPlugin(node, delegate.type as string, 'ADD', attachment, delegate);
  } catch (error) {
    // invoke.DelegateAdd hands back the delegate's own error, without libcni's "plugin type=… failed"
    // prefix (flannel-io/cni-plugin flannel.go delegateAdd: "failed to delegate add: %w").
    if (error instanceof CniError)
      throw new CniError('flannel', 'ADD', `failed to delegate add: ${error.detail}`);
    throw error;
  }
};

/** flannel's DEL: the scratch netconf decides; missing means already removed (flannel_linux.go doCmdDel). */
const flannelDel = async (node: LabNode, attachment: CniAttachment): Promise<void> => {
  const scratch = join(cniPaths(node).flannelDir, attachment.containerId);
  if (!existsSync(scratch)) return;
  const delegate = JSON.parse(readFileSync(scratch, 'utf8')) as Record<string, unknown>;
  await execPlugin(node, String(delegate.type), 'DEL', attachment, delegate);
  rmSync(scratch, { force: true });
};

/** The conf libcni hands each plugin of a list: the plugin's entry plus the list's name and version. */
const pluginConf = (list: Conflist, plugin: Record<string, unknown>, prevResult?: unknown) => ({
  ...plugin,
  name: list.name,
  ...(list.cniVersion ? { cniVersion: list.cniVersion } : {}),
  ...(prevResult ? { prevResult } : {}),
});

/** CNI ADD for a pod: every plugin of the node's conflist in order, each given the previous result. */
export const cniAdd = async (node: LabNode, attachment: CniAttachment): Promise<CniAddResult> => {
  const list = readConflist(node);
  let result: Record<string, unknown> | undefined;
  try {
    for (const plugin of list.plugins) {
      const conf = pluginConf(list, plugin, result);
      result =
        plugin.type === 'flannel'
          ? await flannelAdd(node, attachment, conf as FlannelNetConf)
          : await execPlugin(node, String(plugin.type), 'ADD', attachment, conf);
    }
  } catch (error) {
    // A failed ADD is cleaned up with DEL, as kubelet does before it retries the sandbox.
    await cniDel(node, attachment).catch(() => undefined);
    throw error;
  }
  const ips = (result?.ips ?? []) as { address?: string; version?: string }[];
  const v4 = ips.find((ip) => ip.address && !ip.address.includes(':'));
  if (!v4?.address) throw new CniError('flannel', 'ADD', 'the result has no IPv4 address');
  return { address: v4.address.split('/')[0]!, result: result! };
};

/** CNI DEL for a pod: the conflist's plugins in reverse order; missing state is not an error. */
export const cniDel = async (node: LabNode, attachment: CniAttachment): Promise<void> => {
  let list: Conflist;
  try {
    list = readConflist(node);
  } catch {
    return;
  }
  for (const plugin of [...list.plugins].reverse()) {
    if (plugin.type === 'flannel') await flannelDel(node, attachment);
    else await execPlugin(node, String(plugin.type), 'DEL', attachment, pluginConf(list, plugin));
  }
};
