// `flannelctl bench`: validate, pick the two nodes, measure the pod path and/or the host path, always
// clean up (finally + Ctrl-C), then print, save and judge the thresholds.
import { randomBytes } from 'node:crypto';
import type { NodeAccessOptions } from '../commands/node-access-flags.ts';
import { InterruptedError, ResultExit, UsageError } from '../errors.ts';
import type { GlobalOptions } from '../global-options.ts';
import { useColor, type Io } from '../io.ts';
import type { KubeClient } from '../kube/client.ts';
import { connectKube } from '../kube/connect.ts';
import { FLANNEL_NAMESPACE } from '../flannel/names.ts';
import { runsNoContainers, runtimeVersion } from '../kube/node-runtime.ts';
import { createNodeExec } from '../nodes/create-exec.ts';
import type { NodeExec } from '../nodes/exec.ts';
import { resolveNodeTargets } from '../nodes/resolve-targets.ts';
import type { ApiNode, SelectedNode } from '../nodes/select.ts';
import { flannelInfo, hostInfo, type HostInfo } from './cluster-info.ts';
import { hostDriver } from './host-driver.ts';
import { measurePath, type Progress } from './measure-path.ts';
import { nodeCpuSampler, type CpuSampler } from './node-cpu.ts';
import { validateBenchFlags, type BenchFlags, type BenchOptions } from './options.ts';
import { nodeAddress, pickNodes, type PickableNode } from './pick-nodes.ts';
import { podDriver, type HostNetworkPods } from './pod-driver.ts';
import { FIELD_MANAGER, namespaceObject, runSelector } from './pods.ts';
import { printResultText } from './print-text.ts';
import {
  BENCH_API_VERSION,
  BENCH_KIND,
  BENCH_SCHEMA_VERSION,
  type BenchResult,
  type PathResult,
} from './result.ts';
import { checkThresholds } from './thresholds.ts';
import { checkOutputPath, writeOutputFile } from '../files.ts';
import { printJson } from '../report/print-json.ts';
import { printYaml } from '../report/print-yaml.ts';

export interface BenchDeps {
  /** Aborts the run like Ctrl-C does (tests). */
  readonly signal?: AbortSignal;
}

/** Node access is used for pod mode only when the user set it up; host mode always needs it. */
const nodeAccessGiven = (access: NodeAccessOptions): boolean =>
  access.mode !== 'ssh' ||
  access.inventoryFile !== undefined ||
  access.ssh.user !== undefined ||
  access.ssh.identityFiles.length > 0 ||
  access.ssh.configFile !== undefined ||
  access.ssh.jumpHost !== undefined ||
  access.ssh.knownHostsFile !== undefined ||
  access.ssh.insecureSkipHostKeyCheck ||
  access.ssh.acceptNew;

export const runBench = async (
  flags: BenchFlags,
  globals: GlobalOptions,
  access: NodeAccessOptions,
  io: Io,
  deps: BenchDeps = {},
): Promise<void> => {
  const options = validateBenchFlags(flags);
  if (access.nodes || access.selector)
    throw new UsageError('--nodes and -l do not apply to bench', 'pick the two nodes with --from and --to');
  if (options.save) checkOutputPath(options.save, '--save');
  const useNodes = options.mode !== 'pod' || nodeAccessGiven(access);
  const progress: Progress = (line) => io.stderr.write(`› ${line}\n`);

  const kube = await connectKube(globals, io.env);
  const nodes = (await kube.list('v1', 'Node')) as unknown as PickableNode[];
  const pick = pickNodes(nodes, options.from, options.to, options.tolerations);
  const clientName = pick.client.metadata!.name!;
  const serverName = pick.server.metadata!.name!;
  refuseVirtualNodes([pick.client, pick.server]);
  progress(`nodes: ${clientName} → ${serverName} (${pick.reason})`);
  const flannel = await flannelInfo(kube, globals.namespace, [pick.client, pick.server]);
  for (const w of flannel.warnings) io.stderr.write(`warning: ${w}\n`);

  // Ctrl-C and SIGTERM abort the run; cleanup still runs before the process ends.
  const controller = new AbortController();
  const abort = () => controller.abort();
  deps.signal?.addEventListener('abort', abort, { once: true });
  const onSignal = () => {
    io.stderr.write('\ninterrupted: deleting the bench pods…\n');
    abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const signal = controller.signal;

  const runId = randomBytes(3).toString('hex');
  const startedAt = new Date().toISOString();
  let exec: NodeExec | undefined;
  let createdNamespace = false;
  let podsUsed = false;
  let hostPodsUsed = false;
  // kube-exec and daemonset reach nodes through pods in flannel's namespace; so do host mode's pods.
  const flannelNamespace = flannel.namespace ?? globals.namespace ?? FLANNEL_NAMESPACE;
  const results: PathResult[] = [];
  const info: { client?: HostInfo; server?: HostInfo } = {};
  try {
    let targets: { client: SelectedNode; server: SelectedNode } | undefined;
    let cpu: CpuSampler | undefined;
    if (useNodes) {
      const selection = await resolveNodeTargets(
        { ...access, nodes: [clientName, serverName] },
        kube,
        nodes as ApiNode[],
      );
      const byName = new Map(selection.nodes.map((n) => [n.name, n]));
      const client = byName.get(clientName);
      const server = byName.get(serverName);
      if (!client || !server) {
        const why = selection.unaddressable.map((u) => `${u.name}: ${u.reason}`).join('; ');
        if (options.mode !== 'pod') throw new UsageError(`host mode cannot reach the nodes: ${why}`);
        io.stderr.write(`warning: no node CPU: ${why}\n`);
      } else {
        targets = { client, server };
        exec = await createNodeExec(access, {
          io,
          yes: globals.yes,
          kube,
          namespace: flannelNamespace,
          ...(flannel.image ? { flannelImage: flannel.image } : {}),
        });
        try {
          [info.client, info.server] = await Promise.all([
            hostInfo(exec, client, access.commandTimeoutMs),
            hostInfo(exec, server, access.commandTimeoutMs),
          ]);
          const [sender, receiver] = options.reverse ? [server, client] : [client, server];
          cpu = nodeCpuSampler(exec, { sender, receiver }, access.commandTimeoutMs, signal);
        } catch (error) {
          if (options.mode !== 'pod') throw error;
          io.stderr.write(`warning: no node CPU, kernel or MTU: ${(error as Error).message}\n`);
        }
      }
    }

    // Bench pods between the two nodes: the pod path's, or with hostNetwork the host path's.
    const benchPods = (hostNetwork?: HostNetworkPods) =>
      podDriver({
        kube,
        options,
        runId,
        clientNode: clientName,
        serverNode: serverName,
        startTimeoutMs: globals.timeoutMs,
        ...(cpu ? { cpu } : {}),
        signal,
        ...(hostNetwork ? { hostNetwork } : {}),
      });

    if (options.mode !== 'host') {
      podsUsed = true;
      createdNamespace = await ensureNamespace(kube, options.namespace);
      progress(`pods in namespace ${options.namespace} (run ${runId}, image ${options.image})`);
      const driver = benchPods();
      results.push(await measurePath(driver, options, progress));
    }
    if (options.mode !== 'pod') {
      const { client, server } = targets!;
      const clientIP = client.peerAddress ?? client.address;
      const serverIP = server.peerAddress ?? server.address;
      // Over SSH the nodes' own iperf3; through the API (whose node-access image has none) a
      // hostNetwork pod per node runs the bench image's.
      hostPodsUsed = access.mode !== 'ssh';
      if (hostPodsUsed)
        progress(`host path: hostNetwork pods in namespace ${flannelNamespace} (image ${options.image})`);
      const driver = hostPodsUsed
        ? benchPods({ namespace: flannelNamespace, clientIP, serverIP })
        : hostDriver({
            exec: exec!,
            client,
            server,
            clientIP,
            serverIP,
            port: options.port,
            durationSeconds: options.durationSeconds,
            commandTimeoutMs: access.commandTimeoutMs,
            ...(cpu ? { cpu } : {}),
            signal,
          });
      results.push(await measurePath(driver, options, progress));
    }
  } catch (error) {
    if (signal.aborted) throw new InterruptedError();
    throw error;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    deps.signal?.removeEventListener('abort', abort);
    // Delete before re-signalling: a second Ctrl-C while this runs ends the process the normal way.
    if (podsUsed) await cleanup(kube, options.namespace, runId, createdNamespace, io);
    // Flannel's namespace is never bench's to delete: only its own pods go.
    if (hostPodsUsed) await cleanup(kube, flannelNamespace, runId, false, io);
    await exec?.close();
  }

  const result = buildResult({
    runId,
    startedAt,
    options,
    flannel,
    client: pick.client,
    server: pick.server,
    info,
    results,
    imageUsed: podsUsed || hostPodsUsed,
  });
  if (options.save) {
    writeOutputFile(options.save, `${JSON.stringify(result, null, 2)}\n`, '--save');
    progress(`saved ${options.save}`);
  }
  const violations = checkThresholds(result, options.thresholds);
  if (globals.output === 'json') io.stdout.write(printJson(result));
  else if (globals.output === 'yaml') io.stdout.write(printYaml(result));
  else io.stdout.write(printResultText(result, violations, useColor(io, globals.color)));
  if (globals.output !== 'text') for (const v of violations) io.stderr.write(`${v.flag}: ${v.message}\n`);
  if (violations.length > 0) throw new ResultExit(1);
};

/**
 * The virtual demo's nodes model routes and addresses but run no container: bench pods there would
 * start and never measure anything. Say so before anything is created, with the demo that can.
 */
const refuseVirtualNodes = (picked: readonly PickableNode[]): void => {
  const virtual = picked.filter(runsNoContainers);
  if (virtual.length === 0) return;
  throw new UsageError(
    `${virtual.map((n) => n.metadata?.name).join(' and ')} ${virtual.length > 1 ? 'are virtual nodes' : 'is a virtual node'} of flannelctl's demo (container runtime ${runtimeVersion(virtual[0]!)}): it models routes and addresses but runs no iperf3 or ping, so there is no real traffic to measure`,
    'for a demo cluster that passes real traffic, run `sudo flannelctl demo --lab --keep` and bench it with the access flags it prints',
  );
};

/** Creates the namespace when absent; true when this run created it (and so deletes it). */
const ensureNamespace = async (kube: KubeClient, name: string): Promise<boolean> => {
  const existing = await kube.get({ apiVersion: 'v1', kind: 'Namespace', name });
  if (existing) return false;
  await kube.apply(namespaceObject(name), { fieldManager: FIELD_MANAGER });
  return true;
};

const cleanup = async (
  kube: KubeClient,
  namespace: string,
  runId: string,
  createdNamespace: boolean,
  io: Io,
): Promise<void> => {
  try {
    const pods = await kube.list('v1', 'Pod', { namespace, labelSelector: runSelector(runId) });
    await Promise.all(
      pods.map((p) =>
        kube
          .delete({ apiVersion: 'v1', kind: 'Pod', namespace, name: p.metadata.name })
          .catch(() => undefined),
      ),
    );
    if (createdNamespace) await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
  } catch (error) {
    io.stderr.write(
      `warning: could not delete every bench object: ${(error as Error).message}\n  find them with: kubectl get pods -A -l ${runSelector(runId)}\n`,
    );
  }
};

const benchNode = (node: PickableNode, host?: HostInfo) => ({
  name: node.metadata?.name ?? '',
  address: nodeAddress(node),
  kernel: host?.kernel ?? node.status?.nodeInfo?.kernelVersion ?? null,
  podCIDR: node.spec?.podCIDR ?? null,
});

const buildResult = (input: {
  runId: string;
  startedAt: string;
  options: BenchOptions;
  flannel: { backend: string | null; version: string | null };
  client: PickableNode;
  server: PickableNode;
  info: { client?: HostInfo; server?: HostInfo };
  results: PathResult[];
  /** Whether any pod ran the image (host mode over SSH runs none). */
  imageUsed: boolean;
}): BenchResult => {
  const { options, results } = input;
  const pod = results.find((r) => r.path === 'pod');
  const host = results.find((r) => r.path === 'host');
  const mtu = input.info.client?.mtu ?? input.info.server?.mtu ?? null;
  const result: BenchResult = {
    apiVersion: BENCH_API_VERSION,
    kind: BENCH_KIND,
    schemaVersion: BENCH_SCHEMA_VERSION,
    runId: input.runId,
    startedAt: input.startedAt,
    finishedAt: new Date().toISOString(),
    simulated: false,
    cluster: {
      backend: input.flannel.backend,
      flannelVersion: input.flannel.version,
      mtu,
      mtuSource: mtu === null ? null : 'subnet.env',
    },
    client: benchNode(input.client, input.info.client),
    server: benchNode(input.server, input.info.server),
    settings: {
      mode: options.mode,
      durationSeconds: options.durationSeconds,
      streams: options.streams,
      reverse: options.reverse,
      repeat: options.repeat,
      udpRateBitsPerSecond: options.udpRate ?? null,
      latencyCount: options.latencyCount,
      image: input.imageUsed ? options.image : null,
    },
    results,
    overlayEfficiency:
      pod && host && host.tcp.gbps.median > 0 ? pod.tcp.gbps.median / host.tcp.gbps.median : null,
  };
  return result;
};
