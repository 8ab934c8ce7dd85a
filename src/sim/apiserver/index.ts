// The emulator's public surface.
export { startApiServer } from './server.ts';
export type { ApiServer, ApiServerOptions } from './server.ts';
export type { FailureFault, ForbiddenRule, LatencyFault, RequestMatch } from './faults.ts';
export type { RequestRecord } from './request-log.ts';
export type { ContainerExit, PodHook, PodStarted } from './kubelet.ts';
export type { KubeconfigOptions } from './kubeconfig.ts';
export type { PolicyRule, SimUser, UserInfo } from './authorizer.ts';
export { serviceAccountUser } from './authorizer.ts';
export { PodSandboxError } from './kubelet.ts';
export { isPodReady } from './daemonset-controller.ts';
export type { NodeExecHandler, NodeExecRequest, NodeExecResult } from './pod-exec.ts';
