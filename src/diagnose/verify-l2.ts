// `flannelctl verify-l2`: can every node pair use host-gw? The l2-adjacency check alone, held to
// host-gw, with the node×node matrix (or its L2 segments for large clusters) and, for routed pairs,
// the backend that works for them instead.
import type { VerifyL2Flags } from '../commands/verify-l2.ts';
import type { NodeAccessOptions } from '../commands/node-access-flags.ts';
import { buildL2Matrix, summarizeL2Matrix } from '../checks/l2-adjacency.ts';
import { listSome } from '../checks/finding.ts';
import { selectChecks } from '../checks/registry.ts';
import { nodeViews } from '../checks/topology.ts';
import type { ClusterFacts } from '../facts/cluster-facts.ts';
import { routeGetCount } from '../facts/node-facts.ts';
import type { GlobalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import { writeReport } from './output.ts';
import { checkCluster } from './run-checks.ts';
import { checkOutputPath } from '../files.ts';

/** "node-1 → node-3 via 192.168.77.1" for every pair whose `ip route get` names a gateway. */
export const routedPairs = (facts: ClusterFacts): string[] => {
  const views = nodeViews(facts);
  return views.flatMap((row) =>
    views.flatMap((peer) => {
      if (!row.facts || !peer.publicIp || peer.name === row.name) return [];
      const got = row.facts.routeGets[peer.publicIp];
      const gateway = got?.ok && routeGetCount(got) === 1 ? got.gateway : null;
      return gateway ? [`${row.name} → ${peer.name} via ${gateway}`] : [];
    }),
  );
};

/** The text shown above the report: the matrix, then what to do about routed pairs. */
export const l2MatrixText = (facts: ClusterFacts): string => {
  const lines = ['L2 adjacency (rows reach columns):', ...summarizeL2Matrix(buildL2Matrix(facts))];
  const routed = routedPairs(facts);
  if (routed.length > 0) {
    lines.push(
      '',
      `${routed.length} node pair${routed.length === 1 ? ' is' : 's are'} routed through a gateway: ${listSome(routed, 4)}.`,
      'host-gw cannot work for them (flanneld fails with "network is unreachable"). VXLAN with DirectRouting',
      'routes adjacent pairs directly and encapsulates only the routed ones:',
      '  flannelctl migrate --to vxlan --direct-routing          # this cluster',
      '  flannelctl install --backend vxlan-directrouting        # a new cluster',
    );
  }
  return `${lines.join('\n')}\n`;
};

export const runVerifyL2 = async (
  flags: VerifyL2Flags,
  globals: GlobalOptions,
  access: NodeAccessOptions,
  io: Io,
): Promise<void> => {
  if (flags.junitFile) checkOutputPath(flags.junitFile, '--junit-file');
  const { report, gathered } = await checkCluster({
    globals,
    access,
    io,
    checks: selectChecks({ checks: ['l2-adjacency'] }),
    kind: 'VerifyL2Report',
    // The question verify-l2 answers is host-gw's, whatever the cluster runs today.
    expectedBackend: {
      value: 'host-gw',
      source: 'flag',
      reason: 'verify-l2: can every node pair use host-gw?',
    },
  });
  writeReport({ ...report, l2Matrix: buildL2Matrix(gathered.facts) }, globals, io, {
    textAppendix: l2MatrixText(gathered.facts),
    ...(flags.junitFile ? { junitFile: flags.junitFile } : {}),
  });
};
