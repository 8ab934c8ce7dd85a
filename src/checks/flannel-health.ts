// Is flannel itself up? The DaemonSet exists and is rolled out, every node runs one Ready flanneld
// pod that is not crash-looping, all run one image, and flanneld marked each node NetworkUnavailable=False.
import type { FlannelPodFacts } from '../facts/cluster-facts.ts';
import { findingBuilder, listSome } from './finding.ts';
import { nameArg, sh } from './shell-command.ts';
import type { Check, Finding } from './types.ts';

const b = findingBuilder('flannel-health');

/** Restarts at or above this many mean crash-looping rather than a one-off (node reboot, OOM). */
export const RESTART_WARN_THRESHOLD = 3;

export const flannelHealthCheck: Check = {
  id: 'flannel-health',
  title: 'Flannel DaemonSet and pods',
  description:
    'The flannel DaemonSet exists and is rolled out, each node runs a Ready flanneld pod with few restarts and the same image, and flanneld set NetworkUnavailable=False (FlannelIsUp) on every node',
  needs: ['api'],
  evaluate(facts) {
    const api = facts.api;
    if (!api) return [b.skipped('no Kubernetes API facts (running from an inventory only)')];
    const ds = api.flannel?.daemonSet;
    if (!api.flannel || !ds) {
      const where = api.flannel ? ` in namespace ${api.flannel.namespace}` : '';
      return [
        b('daemonset-missing', 'fail', {
          message: `No flannel DaemonSet (label app=flannel) found${where}`,
          remediation: sh`flannelctl install --backend host-gw`,
        }),
      ];
    }
    const findings: Finding[] = [];
    const ns = ds.namespace;
    const dsRef = `${ns}/${ds.name}`;
    const status = `desired ${ds.desired}, current ${ds.current}, ready ${ds.ready}, updated ${ds.updated}, available ${ds.available}`;
    if (ds.generation !== null && (ds.observedGeneration ?? 0) < ds.generation) {
      findings.push(
        b('rollout-not-observed', 'warn', {
          message: `DaemonSet ${dsRef} was changed (generation ${ds.generation}) but the controller has not observed it yet (observedGeneration ${ds.observedGeneration ?? 'none'})`,
          evidence: [status],
        }),
      );
    } else if (ds.updated < ds.desired) {
      findings.push(
        b('rolling-out', 'warn', {
          message: `DaemonSet ${dsRef} is rolling out: ${ds.updated} of ${ds.desired} pods updated`,
          evidence: [`updateStrategy ${ds.updateStrategy}`, status],
          remediation:
            ds.updateStrategy === 'OnDelete'
              ? sh`kubectl -n ${nameArg(ns)} delete pod -l app=flannel --field-selector spec.nodeName=<node>  # OnDelete: pods update only when deleted`
              : sh`kubectl -n ${nameArg(ns)} rollout status ${nameArg(`ds/${ds.name}`)}`,
        }),
      );
    }
    const images = [...new Set(api.flannel.pods.map((p) => p.image).filter((i): i is string => !!i))].sort();
    if (images.length > 1) {
      const count = (image: string) => api.flannel!.pods.filter((p) => p.image === image).length;
      findings.push(
        b('mixed-images', 'warn', {
          message: `flanneld pods run ${images.length} different images`,
          evidence: images.map((i) => `${i}: ${count(i)} pods`),
          remediation: sh`kubectl -n ${nameArg(ns)} rollout status ${nameArg(`ds/${ds.name}`)}`,
        }),
      );
    }
    const podsByNode = new Map<string, FlannelPodFacts[]>();
    for (const pod of api.flannel.pods) {
      if (!pod.node) continue;
      podsByNode.set(pod.node, [...(podsByNode.get(pod.node) ?? []), pod]);
    }
    for (const node of api.nodes) {
      const os = node.labels['kubernetes.io/os'];
      if (os && os !== 'linux') {
        findings.push(b.skipped(`${node.name} runs ${os}; the flannel DaemonSet targets linux`, node.name));
        continue;
      }
      const before = findings.length;
      const pods = podsByNode.get(node.name) ?? [];
      if (pods.length === 0) {
        findings.push(
          b('pod-missing', 'fail', {
            node: node.name,
            message: `No flanneld pod runs on ${node.name}`,
            evidence: [status],
            remediation: sh`kubectl describe ds -n ${nameArg(ns)} ${nameArg(ds.name)}; kubectl describe node ${nameArg(node.name)} | grep -i taint`,
          }),
        );
      }
      for (const pod of pods) {
        const podLine = `pod ${pod.name}: phase ${pod.phase ?? 'unknown'}, ready ${pod.ready}, restarts ${pod.restartCount}, image ${pod.image ?? 'unknown'}`;
        if (!pod.ready) {
          findings.push(
            b('pod-not-ready', 'fail', {
              node: node.name,
              message: `flanneld pod ${pod.name} on ${node.name} is not Ready`,
              evidence: [podLine],
              remediation: sh`kubectl -n ${nameArg(ns)} logs ${nameArg(pod.name)} -c kube-flannel --tail=50`,
            }),
          );
        }
        if (pod.restartCount >= RESTART_WARN_THRESHOLD) {
          findings.push(
            b('restarts', 'warn', {
              node: node.name,
              message: `flanneld pod ${pod.name} on ${node.name} restarted ${pod.restartCount} times`,
              evidence: [podLine],
              remediation: sh`kubectl -n ${nameArg(ns)} logs ${nameArg(pod.name)} -c kube-flannel --previous --tail=50`,
            }),
          );
        }
      }
      const cond = node.networkUnavailable;
      const condLine = cond
        ? `NetworkUnavailable=${cond.status} reason=${cond.reason ?? ''} message=${JSON.stringify(cond.message ?? '')}`
        : 'no NetworkUnavailable condition';
      if (cond?.status === 'True') {
        findings.push(
          b('network-unavailable', 'fail', {
            node: node.name,
            message: `${node.name} reports NetworkUnavailable=True: flanneld has not brought the network up there`,
            evidence: [condLine],
            remediation: pods[0]
              ? sh`kubectl -n ${nameArg(ns)} logs ${nameArg(pods[0].name)} -c kube-flannel --tail=50`
              : sh`kubectl -n ${nameArg(ns)} get pods -l app=flannel -o wide --field-selector ${nameArg(`spec.nodeName=${node.name}`)}`,
          }),
        );
      } else if (!cond) {
        findings.push(
          b('network-condition-missing', 'info', {
            node: node.name,
            message: `${node.name} has no NetworkUnavailable condition (flanneld runs with --set-node-network-unavailable=false, or never started there)`,
            evidence: [condLine],
          }),
        );
      } else if (cond.reason !== 'FlannelIsUp') {
        findings.push(
          b('network-condition-foreign', 'info', {
            node: node.name,
            message: `NetworkUnavailable=False on ${node.name} was set by something other than flanneld (reason ${cond.reason ?? 'none'})`,
            evidence: [condLine],
          }),
        );
      }
      if (findings.length === before) {
        findings.push(
          b.pass({
            node: node.name,
            message: `flanneld is Ready on ${node.name}`,
            evidence: [condLine, ...pods.map((p) => `pod ${p.name}: ready, restarts ${p.restartCount}`)],
          }),
        );
      }
    }
    const orphaned = [...podsByNode.keys()].filter((n) => !api.nodes.some((node) => node.name === n));
    if (orphaned.length > 0) {
      findings.push(
        b('pod-on-unknown-node', 'info', {
          message: `flanneld pods are bound to nodes the API no longer lists: ${listSome(orphaned)}`,
        }),
      );
    }
    return findings;
  },
};
