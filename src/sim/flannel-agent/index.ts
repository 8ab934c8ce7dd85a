// The flannel agent emulator's public surface.
export { startFlannelAgents } from './agent.ts';
export type { FlannelAgents, FlannelAgentsOptions } from './agent.ts';
export type { NodeAgent } from './node-agent.ts';
export {
  flannelClusterSeed,
  flannelPodStates,
  labNodes,
  startSimulatedFlannel,
  virtualNodes,
  waitForFlannelReady,
} from './seed.ts';
export type {
  FlannelInstallOptions,
  SimulatedFlannel,
  SimulatedFlannelOptions,
  SimulatedNode,
} from './seed.ts';
export type {
  Dataplane,
  EnsuredVxlan,
  ExternalInterface,
  KernelResult,
  NlRoute,
  RouteGetResult,
  VxlanLinkInfo,
  VxlanSpec,
} from './dataplane.ts';
export { formatNlRoute, routeEqual, vxlanLinksIncompat } from './dataplane.ts';
export { LabDataplane } from './lab-dataplane.ts';
export { VirtualDataplane, describeVirtualNode } from './virtual-dataplane.ts';
