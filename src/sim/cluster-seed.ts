// The description a simulated cluster starts from: its nodes, and any objects that already exist
// (e.g. a flannel install a test wants to migrate).

/** Any Kubernetes object as JSON; the emulator stores objects untyped, like unstructured.Unstructured. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: KubeMetadata;
  [key: string]: unknown;
}

export interface KubeMetadata {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  managedFields?: ManagedFieldsEntry[];
  finalizers?: string[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

export interface SeedNode {
  readonly name: string;
  readonly internalIP: string;
  readonly podCIDR: string;
  readonly podCIDRs?: readonly string[];
  /** Merged over the defaults (kubernetes.io/os=linux, kubernetes.io/arch=amd64, kubernetes.io/hostname). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly taints?: readonly Taint[];
  /** Replace the default conditions (Ready=True and the pressure conditions False) by type. */
  readonly conditions?: readonly NodeCondition[];
  /** status.nodeInfo.containerRuntimeVersion; default containerd's. */
  readonly containerRuntimeVersion?: string;
}

export interface ClusterSeed {
  readonly nodes: readonly SeedNode[];
  readonly objects?: readonly KubeObject[];
}
