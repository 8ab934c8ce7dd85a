// kubectl's typed clients (`kubectl auth can-i`, `create namespace|configmap|role…`) send protobuf
// request bodies. The emulator answers in JSON (client-go decodes by the response Content-Type), so it
// only reads protobuf: the wire format and the runtime.Unknown envelope here (apimachinery
// pkg/runtime/serializer/protobuf/protobuf.go: the "k8s\0" prefix, then Unknown{typeMeta, raw}); the
// kinds' messages in protobuf-objects.ts.
import { badRequest } from './api-error.ts';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

export type Fields = Map<number, (Buffer | number)[]>;

const readVarint = (buf: Buffer, pos: number): [number, number] => {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw badRequest('truncated protobuf varint');
    const byte = buf[pos++]!;
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7;
  }
};

export const decode = (buf: Buffer): Fields => {
  const fields: Fields = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [tag, afterTag] = readVarint(buf, pos);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    let value: Buffer | number;
    if (wire === 0) [value, pos] = readVarint(buf, afterTag);
    else if (wire === 2) {
      const [len, start] = readVarint(buf, afterTag);
      value = buf.subarray(start, start + len);
      pos = start + len;
    } else if (wire === 1) {
      value = 0;
      pos = afterTag + 8;
    } else if (wire === 5) {
      value = 0;
      pos = afterTag + 4;
    } else throw badRequest(`unsupported protobuf wire type ${wire}`);
    const list = fields.get(field) ?? [];
    list.push(value);
    fields.set(field, list);
  }
  return fields;
};

const str = (f: Fields, n: number): string | undefined => {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
};
const msg = (f: Fields, n: number): Fields | undefined => {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? decode(v) : undefined;
};

/** Unwraps the runtime.Unknown envelope: the type it names and the raw message. */
export const envelope = (body: Buffer): { apiVersion?: string; kind?: string; raw: Buffer } => {
  if (!body.subarray(0, 4).equals(MAGIC)) throw badRequest('protobuf body without the k8s envelope');
  const unknown = decode(body.subarray(4));
  const typeMeta = msg(unknown, 1);
  const raw = unknown.get(2)?.[0];
  return {
    apiVersion: typeMeta && str(typeMeta, 1),
    kind: typeMeta && str(typeMeta, 2),
    raw: Buffer.isBuffer(raw) ? raw : Buffer.alloc(0),
  };
};

export const decodeSelfSubjectAccessReview = (body: Buffer): Record<string, unknown> => {
  const { raw } = envelope(body);
  const review = decode(raw);
  const spec = msg(review, 2);
  const ra = spec && msg(spec, 1);
  const nra = spec && msg(spec, 2);
  const out: Record<string, unknown> = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    metadata: {},
  };
  const specOut: Record<string, unknown> = {};
  if (ra) {
    const keys = ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'];
    const attrs: Record<string, string> = {};
    keys.forEach((k, i) => {
      const v = str(ra, i + 1);
      if (v !== undefined && v !== '') attrs[k] = v;
    });
    specOut.resourceAttributes = attrs;
  }
  if (nra) specOut.nonResourceAttributes = { path: str(nra, 1) ?? '', verb: str(nra, 2) ?? '' };
  out.spec = specOut;
  return out;
};
