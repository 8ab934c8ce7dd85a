// The container runtime a node reports (status.nodeInfo.containerRuntimeVersion, `<name>://<version>`,
// the CONTAINER-RUNTIME column of `kubectl get nodes -o wide`). flannelctl's own demo nodes say what
// they are there, so a command that needs real containers can tell before it creates any.

/** The virtual demo nodes: routes, addresses and shells are modelled; no container ever runs. */
export const VIRTUAL_RUNTIME = 'flannelctl-virtual';
/** The lab's nodes: network namespaces whose pods run host binaries through the real CNI plugins. */
export const LAB_RUNTIME = 'flannelctl-lab';

export interface NodeWithRuntime {
  readonly status?: { nodeInfo?: { containerRuntimeVersion?: string } };
}

export const runtimeVersion = (node: NodeWithRuntime): string | undefined =>
  node.status?.nodeInfo?.containerRuntimeVersion;

/** True for a node of the virtual demo cluster, which cannot run a container (so cannot pass traffic). */
export const runsNoContainers = (node: NodeWithRuntime): boolean =>
  runtimeVersion(node)?.startsWith(`${VIRTUAL_RUNTIME}://`) === true;
