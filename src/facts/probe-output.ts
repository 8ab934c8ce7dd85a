// Turns one node's probe output into NodeFacts. A section that is absent, truncated or failed becomes
// a SectionError and its facts null: checks skip on null, they never guess.
import type {
  FdbEntry,
  IpVersion,
  Iptables,
  NodeFacts,
  PodInterface,
  RouteGetResult,
  SectionError,
  Source,
  SubnetEnv,
} from './node-facts.ts';
import type { JsonObject, Parsed } from './parse/common.ts';
import { firstLine, jsonArray, jsonOrText } from './parse/common.ts';
import { parseFdbJson, parseFdbText } from './parse/bridge-fdb.ts';
import { parseAddressesJson, parseAddressesText } from './parse/ip-addr.ts';
import { parseLinksJson, parseLinksText } from './parse/ip-link.ts';
import { parseNeighboursJson, parseNeighboursText } from './parse/ip-neigh.ts';
import { parseRouteGet, parseRoutesJson, parseRoutesText } from './parse/ip-route.ts';
import { parseIpVersion } from './parse/ip-version.ts';
import { parseIptables, parseNftTables } from './parse/iptables.ts';
import { parsePodNetnsPart } from './parse/pod-netns.ts';
import { parseSnmp } from './parse/snmp.ts';
import { parseSubnetEnv } from './parse/subnet-env.ts';
import { parseSysctls } from './parse/sysctl.ts';
import { ROUTE_GET_JSON, ROUTE_GET_TEXT } from './probe-script.ts';
import type { Section } from './sections.ts';
import { detach, splitPeerSections, splitSections } from './sections.ts';

export interface ParseProbeOptions {
  /** The address the probe was sent to. */
  readonly address?: string;
}

// Exit codes the probe's helpers use on purpose (see probe-script.ts).
const NOT_INSTALLED = 127;
const NOT_FOUND = 66;

export const parseProbeOutput = (
  nodeName: string,
  stdout: string,
  nonce: string,
  options: ParseProbeOptions = {},
): NodeFacts => {
  const sections = splitSections(stdout, nonce);
  const errors: SectionError[] = [];
  const warnings: string[] = [];
  const sources: Record<string, Source> = {};

  /** The section's body when it completed with exit 0; otherwise records why not. */
  const body = (name: string): string | undefined => {
    const s = sections.get(name);
    if (!s) {
      errors.push({
        section: name,
        kind: 'absent',
        exitCode: null,
        message: `section ${name} missing from probe output`,
      });
      return undefined;
    }
    if (!s.complete) {
      errors.push({
        section: name,
        kind: 'truncated',
        exitCode: null,
        message: `output of ${name} was cut off`,
      });
      return undefined;
    }
    if (s.exitCode !== 0) {
      errors.push({ section: name, kind: 'failed', exitCode: s.exitCode, message: failure(s) });
      return undefined;
    }
    return detach(s.body);
  };
  /** For JSON sections: any complete output is worth parsing (old ip exits 0 or 1 without JSON). */
  const raw = (name: string): string | undefined => {
    const s = sections.get(name);
    if (s && !s.complete) {
      errors.push({
        section: name,
        kind: 'truncated',
        exitCode: null,
        message: `output of ${name} was cut off`,
      });
    }
    // Not detached: JSON.parse copies what it keeps; callers detach what they keep of the text.
    return s?.complete ? s.body : undefined;
  };
  const ipFacts = <T>(
    key: string,
    jsonName: string,
    textName: string,
    fromJson: (items: JsonObject[]) => Parsed<T>,
    fromText: (text: string) => Parsed<T>,
  ): T | null => {
    const jsonBody = raw(jsonName);
    // The text form is only consulted (and its failure only reported) when the JSON is unusable.
    const items = jsonBody === undefined ? undefined : jsonArray(jsonBody);
    if (items !== undefined) return record(key, fromJson(items));
    const parsed = jsonOrText<T>(key, jsonBody, body(textName), fromJson, fromText);
    return parsed ? record(key, parsed) : null;
  };
  const record = <T>(key: string, parsed: Parsed<T>): T => {
    sources[key] = parsed.source;
    warnings.push(...parsed.warnings);
    return parsed.value;
  };

  const ipVersionText = sections.get('ip-version');
  const ipVersion: IpVersion | null = ipVersionText?.complete
    ? parseIpVersion(detach(ipVersionText.body))
    : (body('ip-version'), null);

  const links = ipFacts('links', 'link-json', 'link-text', parseLinksJson, parseLinksText);
  const addresses = ipFacts('addresses', 'addr-json', 'addr-text', parseAddressesJson, parseAddressesText);
  const routes4 = ipFacts(
    'routes',
    'route-json',
    'route-text',
    (i) => parseRoutesJson(i, 'inet'),
    (t) => parseRoutesText(t, 'inet'),
  );
  const neighbours = ipFacts(
    'neighbours',
    'neigh-json',
    'neigh-text',
    parseNeighboursJson,
    parseNeighboursText,
  );
  const routes6Body = raw('route6-json');
  const routes6 =
    routes6Body !== undefined
      ? jsonOrText(
          'routes6',
          routes6Body,
          undefined,
          (i) => parseRoutesJson(i, 'inet6'),
          (t) => parseRoutesText(t, 'inet6'),
        )
      : undefined;
  if (routes6) sources.routes6 = routes6.source;
  else if (routes6Body !== undefined && routes6Body.trim() !== '')
    warnings.push(`routes6: no IPv6 routes: ${firstLine(routes6Body)}`);
  const routes = routes4 === null ? null : [...routes4, ...(routes6?.value ?? [])];

  const routeGets: Record<string, RouteGetResult> = {};
  const fdb: Record<string, FdbEntry[]> = {};
  // One form per node (see the probe's `g`): one section holding every peer's output.
  const routeGetSection = sections.get(ROUTE_GET_JSON) ?? sections.get(ROUTE_GET_TEXT);
  if (routeGetSection) {
    for (const [peer, part] of splitPeerSections(routeGetSection, nonce))
      routeGets[peer] = routeGet(peer, part);
  }
  for (const name of sections.keys()) {
    const dev = /^fdb-text\/(.+)$/.exec(name)?.[1];
    if (dev !== undefined) {
      const jsonBody = raw(`fdb-json/${dev}`);
      const parsed = jsonOrText(
        `fdb/${dev}`,
        jsonBody,
        body(name),
        (i) => parseFdbJson(i, dev),
        (t) => parseFdbText(t, dev),
      );
      if (parsed) fdb[dev] = record(`fdb/${dev}`, parsed);
    }
  }

  // Optional: fixtures recorded before the section existed have none (the field is left out).
  let podInterfaces: PodInterface[] | null | undefined;
  if (sections.has(POD_NETNS)) {
    const section = sections.get(POD_NETNS)!;
    podInterfaces = body(POD_NETNS) === undefined ? null : [];
    if (podInterfaces) {
      for (const [netns, part] of splitPeerSections(section, nonce)) {
        const found = parsePodNetnsPart(netns, part);
        if (found) podInterfaces.push(...found);
        else warnings.push(detach(`${POD_NETNS}: could not read netns ${netns}: ${failure(part)}`));
      }
    }
  }

  const sysctlBody = sections.get('sysctl');
  // grep exits 2 when some files are missing; the missing ones are reported in the body.
  const sysctls = sysctlBody?.complete ? parseSysctls(detach(sysctlBody.body)) : (body('sysctl'), null);

  const subnetSection = sections.get('subnet-env');
  let subnetEnv: SubnetEnv | 'missing' | null = null;
  if (subnetSection?.complete && subnetSection.exitCode === NOT_FOUND) subnetEnv = 'missing';
  else {
    const text = body('subnet-env');
    if (text !== undefined) subnetEnv = parseSubnetEnv(text);
  }

  const snmpText = body('snmp');
  const cniSection = sections.get('cni-conf');
  const cniConfFiles =
    cniSection?.complete && cniSection.exitCode === NOT_FOUND
      ? ('missing' as const)
      : lines(body('cni-conf'));

  const iptablesSection = sections.get('iptables-forward');
  let iptables: Iptables | 'not-installed' | null = null;
  if (iptablesSection?.complete && iptablesSection.exitCode === NOT_INSTALLED) iptables = 'not-installed';
  else {
    const forward = body('iptables-forward');
    if (forward !== undefined) {
      const version = raw('iptables-version');
      iptables = parseIptables(version === undefined ? undefined : detach(version), forward);
    }
  }
  const nftSection = sections.get('nft-tables');
  const nftTables =
    nftSection?.complete && nftSection.exitCode === NOT_INSTALLED
      ? ('not-installed' as const)
      : ((t) => (t === undefined ? null : parseNftTables(t)))(body('nft-tables'));

  const kernel = firstLineOrNull(body('kernel'));
  const hostname = firstLineOrNull(body('hostname'));
  const uidText = firstLineOrNull(body('uid'));

  return {
    name: nodeName,
    address: options.address ?? null,
    ipVersion,
    kernel,
    hostname,
    uid: uidText !== null && /^\d+$/.test(uidText) ? Number(uidText) : null,
    links,
    addresses,
    routes,
    neighbours,
    fdb,
    routeGets,
    sysctls,
    subnetEnv,
    snmp: snmpText === undefined ? null : parseSnmp(snmpText),
    cniConfFiles,
    iptables,
    nftTables,
    ...(podInterfaces !== undefined ? { podInterfaces } : {}),
    sources,
    warnings,
    errors,
  };
};

const routeGet = (peer: string, part: Section): RouteGetResult => {
  const json = part.name.startsWith(`${ROUTE_GET_JSON}/`) ? part : undefined;
  // A JSON part that printed a route line anyway (ip ignoring -j) is read as text.
  const parsed = parseRouteGet(
    json?.complete ? json.body : undefined,
    part.complete && part.exitCode === 0 ? detach(part.body) : undefined,
    peer,
  );
  const [first, ...more] = parsed?.value ?? [];
  if (parsed && first) {
    const { dst, type, gateway, dev, prefsrc } = first;
    return {
      peer,
      ok: true,
      source: parsed.source,
      dst,
      type,
      gateway,
      dev,
      prefsrc,
      more: more.length > 0 ? more : null,
    };
  }
  // `RTNETLINK answers: Network is unreachable` (exit 2) is the interesting case here.
  return { peer, ok: false, error: failure(part), exitCode: part.exitCode };
};

const POD_NETNS = 'pod-netns';

const failure = (s: Section): string => {
  const line = detach(firstLine(s.body));
  return line === '' ? `${s.name} exited with ${s.exitCode}` : line;
};

const lines = (text: string | undefined): string[] | null =>
  text === undefined
    ? null
    : text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '');

const firstLineOrNull = (text: string | undefined): string | null => {
  const line = text === undefined ? '' : firstLine(text);
  return line === '' ? null : line;
};
