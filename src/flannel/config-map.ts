// Reading and replacing the net-conf.json / cni-conf.json of a live kube-flannel-cfg ConfigMap.
import { UsageError } from '../errors.ts';
import { parseCniConf, type CniConf } from './cni-conf.ts';
import { describeObject, type KubeObject } from './kube-object.ts';
import { CNI_CONF_KEY, NET_CONF_KEY } from './names.ts';
import { parseNetConf, serializeNetConf, type NetConf } from './net-conf.ts';

const dataOf = (configMap: KubeObject): Record<string, unknown> => {
  const data = configMap.data;
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
};

const readKey = (configMap: KubeObject, key: string): { text: string; source: string } => {
  const source = `${describeObject(configMap)} ${key}`;
  const text = dataOf(configMap)[key];
  if (typeof text !== 'string') {
    throw new UsageError(
      `${describeObject(configMap)} has no ${key}`,
      'is this the flannel ConfigMap (kube-flannel-cfg)?',
    );
  }
  return { text, source };
};

/** The net-conf.json of a ConfigMap; errors name the ConfigMap. */
export const readNetConf = (configMap: KubeObject): NetConf => {
  const { text, source } = readKey(configMap, NET_CONF_KEY);
  return parseNetConf(text, source);
};

/** The cni-conf.json of a ConfigMap; errors name the ConfigMap. */
export const readCniConf = (configMap: KubeObject): CniConf => {
  const { text, source } = readKey(configMap, CNI_CONF_KEY);
  return parseCniConf(text, source);
};

/** A copy of the ConfigMap with net-conf.json replaced; other keys are untouched. */
export const withNetConf = (configMap: KubeObject, conf: NetConf): KubeObject => ({
  ...configMap,
  data: { ...dataOf(configMap), [NET_CONF_KEY]: serializeNetConf(conf) },
});
