// pods/exec as the real API server speaks it over WebSocket (v5.channel.k8s.io, v4 without stdin):
// authenticated and authorized like any request (create on pods/exec), logged, refused with a Status
// before the upgrade, then the command runs through the handler registered for the pod's node and its
// stdout (channel 1), stderr (2) and exit status (3) go back before the socket closes.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { KubeObject } from '../cluster-seed.ts';
import { ApiError, badRequest, forbidden, notFound } from './api-error.ts';
import type { RequestRecord } from './request-log.ts';
import { resourceByName } from './resources.ts';
import { parseResourcePath, type HandlerContext } from './routes.ts';

export interface NodeExecRequest {
  readonly pod: KubeObject;
  readonly container: string;
  readonly command: readonly string[];
  /** Everything the client sent on stdin, when it asked for stdin. */
  readonly stdin?: string;
}

export interface NodeExecResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** What runs an exec'd command on a node: its model, or its network namespace in a lab. */
export type NodeExecHandler = (request: NodeExecRequest) => Promise<NodeExecResult>;

const V5 = 'v5.channel.k8s.io';
const V4 = 'v4.channel.k8s.io';
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const CLOSE = 255;
const CHUNK = 32 * 1024;
const PODS = resourceByName('pods');

const reject = (socket: Duplex, error: ApiError, record: RequestRecord): void => {
  record.status = error.code;
  const body = JSON.stringify(error.toStatus());
  socket.end(
    `HTTP/1.1 ${error.code} ${error.reason || 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
};

/** The Status the kubelet streams on channel 3 when the command ends. */
export const exitStatus = (command: readonly string[], exitCode: number): Record<string, unknown> =>
  exitCode === 0
    ? { metadata: {}, status: 'Success' }
    : {
        metadata: {},
        status: 'Failure',
        message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
      };

const frame = (channel: number, data: Buffer | string): Buffer =>
  Buffer.concat([Buffer.from([channel]), typeof data === 'string' ? Buffer.from(data) : data]);

export class PodExecServer {
  private readonly handlers = new Map<string, NodeExecHandler>();
  private readonly sockets = new Set<WebSocket>();
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => pickProtocol(p) });

  constructor(private readonly ctx: HandlerContext) {}

  /** Runs every exec into a pod on `node` through `handler`; returns the unregister function. */
  register(node: string, handler: NodeExecHandler): () => void {
    this.handlers.set(node, handler);
    return () => {
      if (this.handlers.get(node) === handler) this.handlers.delete(node);
    };
  }

  /** The handler for pods on `node`, as pods/exec and a pod's own command use it. */
  handlerFor(node: string): NodeExecHandler | undefined {
    return this.handlers.get(node);
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
  }

  /** The HTTP server's 'upgrade' event. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const route = parseResourcePath(url.pathname);
    const record: RequestRecord = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      contentType: undefined,
      userAgent: req.headers['user-agent'],
      status: 0,
      ...(route
        ? {
            verb: 'create',
            resource: route.subresource ? `${route.type.resource}/${route.subresource}` : route.type.resource,
            ...(route.namespace !== undefined ? { namespace: route.namespace } : {}),
            ...(route.name !== undefined ? { name: route.name } : {}),
          }
        : {}),
      dryRun: false,
    };
    this.ctx.log.add(record);
    try {
      const accepted = this.admit(req, url, route, record);
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        record.status = 101;
        this.sockets.add(ws);
        ws.once('close', () => this.sockets.delete(ws));
        this.serve(ws, accepted);
      });
    } catch (error) {
      const apiError =
        error instanceof ApiError ? error : new ApiError(500, 'InternalError', (error as Error).message);
      reject(socket, apiError, record);
    }
  }

  private admit(
    req: IncomingMessage,
    url: URL,
    route: ReturnType<typeof parseResourcePath>,
    record: RequestRecord,
  ): { pod: KubeObject; container: string; command: string[]; stdin: boolean } {
    if (!route || route.type !== PODS || !route.name || route.subresource !== 'exec')
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const identity = this.ctx.users.authenticate(req.headers.authorization);
    if (!identity) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    record.user = identity.name;
    const injected = this.ctx.faults.takeFailure({ method: record.method, path: record.path });
    if (injected) throw injected;
    const namespace = route.namespace!;
    const attrs = { verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace };
    const allowed =
      (identity.admin || this.ctx.authorizer.authorize(identity, { ...attrs, name: route.name })) &&
      !this.ctx.faults.isForbidden('create', 'pods/exec', namespace);
    if (!allowed) throw forbidden(PODS, 'create', identity.name, route.name, namespace, 'exec');
    const pod = this.ctx.store.get(PODS, namespace, route.name);
    if (!pod) throw notFound(PODS, route.name);
    const q = url.searchParams;
    const command = q.getAll('command');
    if (command.length === 0) throw badRequest('you must specify at least 1 command');
    const names = ((pod.spec as { containers?: { name: string }[] }).containers ?? []).map((c) => c.name);
    const container = q.get('container') || (names.length === 1 ? names[0]! : '');
    if (!container)
      throw badRequest(
        `a container name must be specified for pod ${route.name}, choose one of: [${names.join(' ')}]`,
      );
    if (!names.includes(container))
      throw badRequest(`container ${container} is not valid for pod ${route.name}`);
    const status = pod.status as
      { phase?: string; containerStatuses?: { name: string; state?: { running?: unknown } }[] } | undefined;
    const running = status?.containerStatuses?.find((c) => c.name === container)?.state?.running;
    if (status?.phase !== 'Running' || !running)
      throw badRequest(`unable to upgrade connection: container not found ("${container}")`);
    const stdin = q.get('stdin') === 'true' || q.get('stdin') === '1';
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    // v4 has no way to close stdin alone: a command reading stdin would never see its end.
    if (!offered.includes(V5) && !(offered.includes(V4) && !stdin))
      throw badRequest(`unsupported subprotocol: the emulator speaks ${V5}${stdin ? '' : ` and ${V4}`}`);
    return { pod, container, command, stdin };
  }

  private serve(
    ws: WebSocket,
    request: { pod: KubeObject; container: string; command: string[]; stdin: boolean },
  ): void {
    const input: Buffer[] = [];
    let started = false;
    const start = (): void => {
      if (started) return;
      started = true;
      const node = (request.pod.spec as { nodeName?: string }).nodeName ?? '';
      const handler = this.handlers.get(node);
      const run: Promise<NodeExecResult> = handler
        ? handler({
            pod: request.pod,
            container: request.container,
            command: request.command,
            ...(request.stdin ? { stdin: Buffer.concat(input).toString('utf8') } : {}),
          })
        : Promise.reject(new Error(`the emulator has no container runtime for node ${node}`));
      run.then(
        (result) => {
          if (ws.readyState !== ws.OPEN) return;
          for (const [channel, text] of [
            [STDOUT, result.stdout],
            [STDERR, result.stderr],
          ] as const) {
            const data = Buffer.from(text);
            for (let i = 0; i < data.length; i += CHUNK) ws.send(frame(channel, data.subarray(i, i + CHUNK)));
          }
          ws.send(frame(STATUS, JSON.stringify(exitStatus(request.command, result.exitCode))));
          ws.close(1000);
        },
        (error: unknown) => {
          if (ws.readyState !== ws.OPEN) return;
          const status = {
            metadata: {},
            status: 'Failure',
            message: `Internal error occurred: error executing command in container: ${(error as Error).message}`,
            reason: 'InternalError',
            code: 500,
          };
          ws.send(frame(STATUS, JSON.stringify(status)));
          ws.close(1000);
        },
      );
    };
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) return;
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      if (buf[0] === STDIN) input.push(buf.subarray(1));
      else if (buf[0] === CLOSE && buf[1] === STDIN) start();
    });
    if (!request.stdin) start();
  }
}

const pickProtocol = (offered: Set<string>): string | false =>
  offered.has(V5) ? V5 : offered.has(V4) ? V4 : false;
