// Defaulting the real API server does that users of flannelctl can observe.
import type { KubeObject } from '../cluster-seed.ts';
import type { ResourceType } from './resources.ts';
import { isPlainObject } from './schema.ts';

type Obj = Record<string, unknown>;

export const applyDefaults = (t: ResourceType, obj: KubeObject): void => {
  switch (t.resource) {
    case 'daemonsets':
      return defaultDaemonSet(obj);
    case 'namespaces': {
      const name = obj.metadata!.name!;
      obj.metadata!.labels = { ...obj.metadata!.labels, 'kubernetes.io/metadata.name': name };
      obj.spec = { finalizers: ['kubernetes'], ...(obj.spec as Obj | undefined) };
      obj.status = { phase: 'Active', ...(obj.status as Obj | undefined) };
      return;
    }
    case 'pods': {
      const spec = ((obj.spec as Obj | undefined) ?? (obj.spec = {})) as Obj;
      spec.restartPolicy ??= 'Always';
      spec.dnsPolicy ??= 'ClusterFirst';
      spec.schedulerName ??= 'default-scheduler';
      spec.terminationGracePeriodSeconds ??= 30;
      if (!isPlainObject(obj.status) || !obj.status.phase)
        obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
      return;
    }
  }
};

const defaultDaemonSet = (obj: KubeObject): void => {
  const spec = ((obj.spec as Obj | undefined) ?? (obj.spec = {})) as Obj;
  const strategy = ((spec.updateStrategy as Obj | undefined) ?? (spec.updateStrategy = {})) as Obj;
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rolling = ((strategy.rollingUpdate as Obj | undefined) ?? (strategy.rollingUpdate = {})) as Obj;
    rolling.maxUnavailable ??= 1;
    rolling.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  const template = spec.template as Obj | undefined;
  const podSpec = template?.spec as Obj | undefined;
  if (podSpec) {
    podSpec.restartPolicy ??= 'Always';
    podSpec.dnsPolicy ??= 'ClusterFirst';
    podSpec.schedulerName ??= 'default-scheduler';
    podSpec.terminationGracePeriodSeconds ??= 30;
  }
  obj.status ??= {
    currentNumberScheduled: 0,
    numberMisscheduled: 0,
    desiredNumberScheduled: 0,
    numberReady: 0,
  };
};
