// Performance figures for the README (`npm run bench:perf`): run on a quiet machine, read the medians.
//   1. cold start: `flannelctl --help` and a command that talks to the API, against `node -e 0`; for the
//      API command also its start-up alone (spawn to its first API request)
//   2. doctor over the lab (real OpenSSH) against the host-gw guide's shell loop (root only)
//   3. doctor over 1,000 virtual nodes: wall time and peak memory of the flannelctl process
//   4. the routes check alone at 1,000 nodes (~1M routes)
// Sizes can be changed with BENCH_NODES (default 1000), BENCH_RUNS (default 7) and BENCH_LAB_NODES
// (default "4,20": the shell loop makes nodes*(nodes+6) sequential ssh calls, ~13 min at 50 nodes).
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { startVirtualCluster } from '../src/sim/virtual-cluster.ts';
import { routesCheck } from '../src/checks/routes.ts';
import { buildClusterFacts } from '../src/facts/cluster-facts.ts';
import { gatherNodeFacts } from '../src/facts/gather.ts';
import { createSshExec } from '../src/nodes/ssh.ts';
import { startConvergedHostGwCluster } from './bench-perf-cluster.ts';
import { labShellLoopComparison } from './bench-perf-lab.ts';

const run = promisify(execFile);
const NODES = Number(process.env.BENCH_NODES ?? 1000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const LAB_NODES = (process.env.BENCH_LAB_NODES ?? '4,20').split(',').map(Number);
const CLI = new URL('../bin/flannelctl.js', import.meta.url).pathname;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const ms = (x: number) => `${Math.round(x)} ms`;

const timeCommand = async (argv: string[], runs = RUNS): Promise<number> => {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await run(argv[0]!, argv.slice(1), { maxBuffer: 64 * 1024 * 1024 }).catch((e: { code?: number }) => {
      if (typeof e.code !== 'number') throw e; // a non-zero exit (findings) is still a measurement
    });
    times.push(performance.now() - start);
  }
  return median(times);
};

/** Wall time and peak RSS of one process, via GNU time. */
const measureProcess = async (argv: string[]): Promise<{ wallMs: number; peakMb: number; code: number }> => {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'PEAK_KB=%M', ...argv], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const kb = Number(/PEAK_KB=(\d+)/.exec(stderr)?.[1] ?? NaN);
      resolve({ wallMs: performance.now() - start, peakMb: kb / 1024, code: code ?? -1 });
    });
  });
};

/**
 * Start-up of a command that talks to the API: from spawn to its first request, through a proxy in
 * front of the API server (so module loading and setup are measured without the round trips).
 */
const timeToFirstRequest = async (kubeconfig: string, argv: (kc: string) => string[]): Promise<number> => {
  const upstream = new URL(/server: (\S+)/.exec(readFileSync(kubeconfig, 'utf8'))![1]!);
  let first: ((at: number) => void) | undefined;
  const proxy = createServer((req, res) => {
    first?.(performance.now());
    first = undefined;
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxied = `${kubeconfig}.proxied`;
  writeFileSync(
    proxied,
    readFileSync(kubeconfig, 'utf8').replace(
      /server: \S+/,
      `server: http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    ),
  );
  try {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const start = performance.now();
      const firstAt = new Promise<number>((resolve) => (first = resolve));
      await run('node', [CLI, ...argv(proxied)]).catch((e: { code?: number }) => {
        if (typeof e.code !== 'number') throw e;
      });
      times.push((await firstAt) - start);
    }
    return median(times);
  } finally {
    proxy.close();
  }
};

const main = async () => {
  console.log(
    `flannelctl performance, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores ${cpus()[0]?.model ?? ''}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );

  // 1. Cold start.
  const bare = await timeCommand(['node', '-e', '0']);
  const help = await timeCommand(['node', CLI, '--help']);
  console.log(
    `\n1. cold start (median of ${RUNS}): node -e 0 ${ms(bare)}; flannelctl --help ${ms(help)} (${(help / bare).toFixed(2)}x)`,
  );

  const small = await startVirtualCluster({ nodes: 3, backend: 'host-gw' });
  try {
    const api = await timeCommand(['node', CLI, 'install', '--kubeconfig', small.kubeconfig, '--diff']);
    const startup = await timeToFirstRequest(small.kubeconfig, (kc) => [
      'install',
      '--kubeconfig',
      kc,
      '--diff',
    ]);
    console.log(
      `   flannelctl install --diff against the API: ${ms(api)} (+${ms(api - bare)} over node -e 0, including the API round trips)`,
    );
    console.log(
      `   its start-up alone (spawn to first API request): ${ms(startup)} (+${ms(startup - bare)} over node -e 0)`,
    );
  } finally {
    await small.close();
  }

  // 2. doctor vs the shell loop, over real OpenSSH in the lab.
  if (process.getuid?.() === 0) {
    for (const nodes of LAB_NODES) {
      const r = await labShellLoopComparison(nodes, CLI);
      console.log(
        `\n2. ${nodes} lab nodes over OpenSSH: doctor ${ms(r.doctorMs)}; shell loop (${r.sshCalls} ssh calls) ${ms(r.loopMs)}; doctor is ${(r.loopMs / r.doctorMs).toFixed(1)}x faster`,
      );
    }
  } else {
    console.log('\n2. doctor vs the shell loop: skipped (needs root for the network-namespace lab)');
  }

  // 3. doctor over many virtual nodes, in its own process so its memory is its own.
  console.log(
    `\n3. starting ${NODES} virtual nodes in flannel's host-gw state (see bench-perf-cluster.ts)...`,
  );
  const big = await startConvergedHostGwCluster(NODES);
  try {
    const doctor = await measureProcess([
      'node',
      CLI,
      'doctor',
      ...big.cliArgs(),
      '-o',
      'json',
      '--concurrency',
      '64',
    ]);
    console.log(
      `   doctor over ${NODES} virtual nodes: ${ms(doctor.wallMs)} wall, peak ${Math.round(doctor.peakMb)} MB (exit ${doctor.code})`,
    );

    // 4. The routes check alone, on facts gathered once.
    const exec = createSshExec({ ...big.fleet.sshOptions(), concurrency: 64 });
    const specs = big.fleet.nodes.map((n) => n.hostname);
    const targets = specs.map((name) => {
      const eth0 = big.fleet.node(name).addresses.find((a) => a.dev === 'eth0');
      return { ...big.fleet.target(name), peerAddress: eth0?.local ?? null };
    });
    const results = await gatherNodeFacts(targets, exec, { timeoutMs: 120_000, concurrency: 64 });
    await exec.close();
    const apiNodes = big.api.list('nodes');
    const facts = buildClusterFacts({
      api: { nodes: apiNodes, namespace: 'kube-flannel' },
      nodes: results,
      backend: 'host-gw',
    });
    const routeCount = results.reduce((n, r) => n + (r.ok ? (r.facts.routes?.length ?? 0) : 0), 0);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      routesCheck.evaluate(facts);
      times.push(performance.now() - start);
    }
    console.log(
      `\n4. routes check alone over ${NODES} nodes (${routeCount} routes): ${ms(median(times))} (median of 5)`,
    );
  } finally {
    await big.close();
  }
};

await main();
