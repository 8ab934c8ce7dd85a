// Well-known names of a Flannel install (Documentation/kube-flannel.yml, v0.28.9), shared by
// rendering, discovery, checks and the simulator so no module spells them on its own.

/** Namespace of current installs (since v0.19.0). */
export const FLANNEL_NAMESPACE = 'kube-flannel';
/** Namespace of installs before v0.19.0: no Namespace object of its own. */
export const LEGACY_NAMESPACE = 'kube-system';

export const DAEMONSET_NAME = 'kube-flannel-ds';
export const CONFIGMAP_NAME = 'kube-flannel-cfg';
export const SERVICE_ACCOUNT_NAME = 'flannel';
export const CLUSTER_ROLE_NAME = 'flannel';
export const CLUSTER_ROLE_BINDING_NAME = 'flannel';
/** The flanneld container of the DaemonSet pod. */
export const FLANNEL_CONTAINER_NAME = 'kube-flannel';
export const INSTALL_CNI_PLUGIN_CONTAINER_NAME = 'install-cni-plugin';
export const INSTALL_CNI_CONTAINER_NAME = 'install-cni';

/** ConfigMap data keys. */
export const NET_CONF_KEY = 'net-conf.json';
export const CNI_CONF_KEY = 'cni-conf.json';

/** Where install-cni writes the CNI config on each node. */
export const CNI_CONFLIST_PATH = '/etc/cni/net.d/10-flannel.conflist';
export const SUBNET_ENV_PATH = '/run/flannel/subnet.env';

/** Labels: the DaemonSet pods carry APP_LABEL; everything carries K8S_APP_LABEL. */
export const APP_LABEL = { app: 'flannel' } as const;
export const K8S_APP_LABEL = { 'k8s-app': 'flannel' } as const;
export const TIER_LABEL = { tier: 'node' } as const;
/** Selects flannel pods in both manifest variants (documentation and release). */
export const POD_LABEL_SELECTOR = 'app=flannel';
export const POD_SECURITY_ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';

/** Node annotations written and read by flanneld (`--kube-annotation-prefix`). */
export const ANNOTATION_PREFIX = 'flannel.alpha.coreos.com';
export const ANNOTATIONS = {
  backendType: `${ANNOTATION_PREFIX}/backend-type`,
  backendData: `${ANNOTATION_PREFIX}/backend-data`,
  backendV6Data: `${ANNOTATION_PREFIX}/backend-v6-data`,
  publicIp: `${ANNOTATION_PREFIX}/public-ip`,
  publicIpv6: `${ANNOTATION_PREFIX}/public-ipv6`,
  kubeSubnetManager: `${ANNOTATION_PREFIX}/kube-subnet-manager`,
  nodePublicIp: `${ANNOTATION_PREFIX}/node-public-ip`,
  nodePublicIpv6: `${ANNOTATION_PREFIX}/node-public-ipv6`,
  publicIpOverwrite: `${ANNOTATION_PREFIX}/public-ip-overwrite`,
  publicIpv6Overwrite: `${ANNOTATION_PREFIX}/public-ipv6-overwrite`,
} as const;
