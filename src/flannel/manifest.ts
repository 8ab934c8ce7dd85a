// Renders the Flannel install as typed objects, field for field equal to upstream
// Documentation/kube-flannel.yml (v0.28.9) for the same settings. No string templates: the
// objects are built here and turned into YAML/JSON by manifest-text.ts.
import { UsageError } from '../errors.ts';
import { buildCniConf, serializeCniConf } from './cni-conf.ts';
import { FEATURE_SINCE, isAtLeast, normalizeFlannelVersion } from './flannel-version.ts';
import { flannelImages } from './images.ts';
import type { KubeObject } from './kube-object.ts';
import { resolveManifestOptions, type BackendPreset, type ManifestOptions } from './manifest-options.ts';
import {
  APP_LABEL,
  CLUSTER_ROLE_BINDING_NAME,
  CLUSTER_ROLE_NAME,
  CNI_CONF_KEY,
  CNI_CONFLIST_PATH,
  CONFIGMAP_NAME,
  DAEMONSET_NAME,
  FLANNEL_CONTAINER_NAME,
  INSTALL_CNI_CONTAINER_NAME,
  INSTALL_CNI_PLUGIN_CONTAINER_NAME,
  K8S_APP_LABEL,
  LEGACY_NAMESPACE,
  NET_CONF_KEY,
  POD_SECURITY_ENFORCE_LABEL,
  SERVICE_ACCOUNT_NAME,
  TIER_LABEL,
} from './names.ts';
import { isKnownBackend, serializeNetConf, type AnyBackend, type NetConf } from './net-conf.ts';

export { listImages, flannelImages, rewriteRegistry } from './images.ts';
export { parseManifest, toJsonList, toYaml } from './manifest-text.ts';

export const HEALTHZ_PORT = 8081;

/** The Backend object for a preset or a given Backend, with `mtu` applied where it means something. */
export const buildBackend = (backend: BackendPreset | AnyBackend, mtu?: number): AnyBackend => {
  const base: AnyBackend =
    typeof backend !== 'string'
      ? { ...backend }
      : backend === 'vxlan-directrouting'
        ? { Type: 'vxlan', DirectRouting: true }
        : { Type: backend };
  if (mtu === undefined) return base;
  if (base.Type !== 'vxlan' && base.Type !== 'wireguard') {
    throw new UsageError(
      `--mtu does not apply to the ${base.Type} backend`,
      base.Type === 'host-gw'
        ? 'host-gw adds no encapsulation: pods get the MTU of the node interface'
        : 'only vxlan and wireguard have a Backend.MTU setting',
    );
  }
  return { ...base, MTU: mtu } as AnyBackend;
};

/** The net-conf.json these options produce. */
export const buildNetConf = (options: Partial<ManifestOptions> = {}): NetConf => {
  const o = resolveManifestOptions(options);
  const conf: NetConf = { Network: o.network, Backend: buildBackend(o.backend, o.mtu) };
  if (o.subnetLen !== undefined) conf.SubnetLen = o.subnetLen;
  if (o.subnetMin !== undefined) conf.SubnetMin = o.subnetMin;
  if (o.subnetMax !== undefined) conf.SubnetMax = o.subnetMax;
  if (o.ipv6Network !== undefined) {
    conf.EnableIPv6 = true;
    conf.IPv6Network = o.ipv6Network;
  }
  conf.EnableNFTables = o.enableNFTables;
  return conf;
};

/** Namespace (unless kube-system), RBAC, ServiceAccount, ConfigMap and DaemonSet, in apply order. */
export const renderManifest = (options: Partial<ManifestOptions> = {}): KubeObject[] => {
  const o = resolveManifestOptions(options);
  const namespace = o.namespace;
  const objects: KubeObject[] = [];
  // kube-system predates the kube-flannel namespace: it exists and must not be relabelled.
  if (namespace !== LEGACY_NAMESPACE) objects.push(namespaceObject(namespace));
  objects.push(clusterRole(), clusterRoleBinding(namespace), serviceAccount(namespace));
  objects.push(configMap(namespace, o), daemonSet(namespace, o));
  return objects;
};

const namespaceObject = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { ...K8S_APP_LABEL, [POD_SECURITY_ENFORCE_LABEL]: 'privileged' } },
});

const clusterRole = (): KubeObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name: CLUSTER_ROLE_NAME, labels: { ...K8S_APP_LABEL } },
  rules: [
    { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] },
  ],
});

const clusterRoleBinding = (namespace: string): KubeObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name: CLUSTER_ROLE_BINDING_NAME, labels: { ...K8S_APP_LABEL } },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CLUSTER_ROLE_NAME },
  subjects: [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT_NAME, namespace }],
});

const serviceAccount = (namespace: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name: SERVICE_ACCOUNT_NAME, namespace, labels: { ...K8S_APP_LABEL } },
});

const configMap = (namespace: string, o: ManifestOptions): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {
    name: CONFIGMAP_NAME,
    namespace,
    labels: { ...TIER_LABEL, ...K8S_APP_LABEL, ...APP_LABEL },
  },
  data: {
    [CNI_CONF_KEY]: serializeCniConf(
      buildCniConf({
        hairpin: o.hairpin,
        defaultGateway: o.defaultGateway,
        // Without --ip-masq the flannel CNI plugin would default the delegate's ipMasq to true and
        // the bridge plugin would SNAT pod traffic to other nodes (see bridgeMasquerades).
        ...(o.ipMasq ? {} : { ipMasq: false }),
      }),
    ),
    [NET_CONF_KEY]: serializeNetConf(buildNetConf(o)),
  },
});

const daemonSet = (namespace: string, o: ManifestOptions): KubeObject => {
  const version = normalizeFlannelVersion(o.flannelVersion);
  const images = flannelImages(o);
  const healthz = isAtLeast(version, FEATURE_SINCE.healthz);
  // kustomize commonLabels (release asset) also adds k8s-app to the selector and pod labels.
  const selector = o.selectorVariant === 'release' ? { ...APP_LABEL, ...K8S_APP_LABEL } : { ...APP_LABEL };
  const backend = buildBackend(o.backend, o.mtu);
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: DAEMONSET_NAME,
      namespace,
      labels: { ...TIER_LABEL, ...APP_LABEL, ...K8S_APP_LABEL },
    },
    spec: {
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...TIER_LABEL, ...selector } },
        spec: {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] },
                ],
              },
            },
          },
          hostNetwork: true,
          priorityClassName: 'system-node-critical',
          tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }],
          serviceAccountName: SERVICE_ACCOUNT_NAME,
          initContainers: [installCniPlugin(images.cniPlugin), installCni(images.flannel, version)],
          containers: [flanneld(images.flannel, o, healthz, backend, version)],
          volumes: [
            { name: 'run', hostPath: { path: '/run/flannel' } },
            { name: 'cni-plugin', hostPath: { path: '/opt/cni/bin' } },
            { name: 'cni', hostPath: { path: '/etc/cni/net.d' } },
            { name: 'flannel-cfg', configMap: { name: CONFIGMAP_NAME } },
            { name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } },
          ],
        },
      },
    },
  };
};

const installCniPlugin = (image: string): Record<string, unknown> => ({
  name: INSTALL_CNI_PLUGIN_CONTAINER_NAME,
  image,
  command: ['cp'],
  args: ['-f', '/flannel', '/opt/cni/bin/flannel'],
  volumeMounts: [{ name: 'cni-plugin', mountPath: '/opt/cni/bin' }],
});

const installCni = (image: string, version: string): Record<string, unknown> => {
  // install-conf writes the conflist atomically, so the kubelet never reads half a file.
  const atomic = isAtLeast(version, FEATURE_SINCE.installConf);
  const files = ['/etc/kube-flannel/cni-conf.json', CNI_CONFLIST_PATH];
  return {
    name: INSTALL_CNI_CONTAINER_NAME,
    image,
    command: atomic ? ['/opt/bin/install-conf'] : ['cp'],
    args: atomic ? files : ['-f', ...files],
    volumeMounts: [
      { name: 'cni', mountPath: '/etc/cni/net.d' },
      { name: 'flannel-cfg', mountPath: '/etc/kube-flannel/' },
    ],
  };
};

const flanneld = (
  image: string,
  o: ManifestOptions,
  healthz: boolean,
  backend: AnyBackend,
  version: string,
): Record<string, unknown> => {
  const args = [
    ...(o.ipMasq ? ['--ip-masq'] : []),
    '--kube-subnet-mgr',
    ...(healthz ? [`--healthz-port=${HEALTHZ_PORT}`] : []),
    ...o.iface.map((name) => `--iface=${name}`),
    ...o.ifaceRegex.map((regex) => `--iface-regex=${regex}`),
  ];
  const env: Array<Record<string, unknown>> = [
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'EVENT_QUEUE_DEPTH', value: '5000' },
  ];
  if (isAtLeast(version, FEATURE_SINCE.contWhenCacheNotReady)) {
    env.push({ name: 'CONT_WHEN_CACHE_NOT_READY', value: 'false' });
  }
  // The udp backend opens /dev/net/tun, which needs a privileged container.
  const privileged = isKnownBackend(backend) && backend.Type === 'udp';
  return {
    name: FLANNEL_CONTAINER_NAME,
    image,
    command: ['/opt/bin/flanneld'],
    args,
    ...(healthz
      ? {
          ports: [{ name: 'healthz', containerPort: HEALTHZ_PORT, protocol: 'TCP' }],
          livenessProbe: {
            httpGet: { path: '/healthz', port: 'healthz' },
            initialDelaySeconds: 10,
            periodSeconds: 30,
          },
          readinessProbe: {
            httpGet: { path: '/readyz', port: 'healthz' },
            initialDelaySeconds: 5,
            periodSeconds: 10,
          },
        }
      : {}),
    resources: { requests: { cpu: '100m', memory: '50Mi' } },
    securityContext: { privileged, capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
    env,
    volumeMounts: [
      { name: 'run', mountPath: '/run/flannel' },
      { name: 'flannel-cfg', mountPath: '/etc/kube-flannel/' },
      { name: 'xtables-lock', mountPath: '/run/xtables.lock' },
    ],
  };
};
