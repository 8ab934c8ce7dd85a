// The protobuf messages of the kinds kubectl's typed clients create, decoded into the JSON the rest of
// the emulator stores. Field numbers and types are those of the upstream generated.proto files:
// k8s.io/api core/v1 (Namespace, ConfigMap, ServiceAccount), rbac/v1 (Role, ClusterRole, RoleBinding,
// ClusterRoleBinding) and k8s.io/apimachinery pkg/apis/meta/v1 (ObjectMeta, OwnerReference, Time,
// LabelSelector). bytes become base64 strings and Time an RFC 3339 string, as in their JSON form.
// Go's generated Marshal writes every non-pointer string, bool and Time even when empty, while their
// JSON tags say `omitempty`: empty values are dropped here, except for the few fields whose JSON tag
// has no omitempty (RoleRef's three, Subject's kind and name) and pointer bools (sent only when set).
import { ApiError } from './api-error.ts';
import { decode, envelope, type Fields } from './protobuf.ts';

type Scalar = 'string' | 'bool' | 'int' | 'bytes' | 'time';
interface Field {
  readonly name: string;
  readonly type: Scalar | Message;
  readonly repeated?: boolean;
  /** map<string, string> or map<string, bytes>: repeated entries {key = 1, value = 2}. */
  readonly map?: 'string' | 'bytes';
  /** Kept when empty: no omitempty in its JSON tag, or a pointer in Go (sent only when set). */
  readonly keepEmpty?: boolean;
}
type Message = Readonly<Record<number, Field>>;

const f = (name: string, type: Scalar | Message, more: Partial<Field> = {}): Field => ({
  name,
  type,
  ...more,
});
const keepEmpty = { keepEmpty: true };
const strings = (name: string): Field => f(name, 'string', { repeated: true });

const OWNER_REFERENCE: Message = {
  1: f('kind', 'string'),
  3: f('name', 'string'),
  4: f('uid', 'string'),
  5: f('apiVersion', 'string'),
  6: f('controller', 'bool', keepEmpty),
  7: f('blockOwnerDeletion', 'bool', keepEmpty),
};

const OBJECT_META: Message = {
  1: f('name', 'string'),
  2: f('generateName', 'string'),
  3: f('namespace', 'string'),
  5: f('uid', 'string'),
  6: f('resourceVersion', 'string'),
  7: f('generation', 'int'),
  8: f('creationTimestamp', 'time'),
  11: f('labels', 'string', { map: 'string' }),
  12: f('annotations', 'string', { map: 'string' }),
  13: f('ownerReferences', OWNER_REFERENCE, { repeated: true }),
  14: strings('finalizers'),
};

const LABEL_SELECTOR: Message = {
  1: f('matchLabels', 'string', { map: 'string' }),
  2: f(
    'matchExpressions',
    { 1: f('key', 'string'), 2: f('operator', 'string'), 3: strings('values') },
    { repeated: true },
  ),
};

const POLICY_RULE: Message = {
  1: strings('verbs'),
  2: strings('apiGroups'),
  3: strings('resources'),
  4: strings('resourceNames'),
  5: strings('nonResourceURLs'),
};

const SUBJECT: Message = {
  1: f('kind', 'string', keepEmpty),
  2: f('apiGroup', 'string'),
  3: f('name', 'string', keepEmpty),
  4: f('namespace', 'string'),
};
const ROLE_REF: Message = {
  1: f('apiGroup', 'string', keepEmpty),
  2: f('kind', 'string', keepEmpty),
  3: f('name', 'string', keepEmpty),
};
const metadata = f('metadata', OBJECT_META);
const BINDING: Message = {
  1: metadata,
  2: f('subjects', SUBJECT, { repeated: true }),
  3: f('roleRef', ROLE_REF),
};

/** By "apiVersion/kind", as the envelope names them. */
const KINDS: Readonly<Record<string, Message>> = {
  'v1/Namespace': { 1: metadata, 2: f('spec', { 1: strings('finalizers') }) },
  'v1/ConfigMap': {
    1: metadata,
    2: f('data', 'string', { map: 'string' }),
    3: f('binaryData', 'bytes', { map: 'bytes' }),
    4: f('immutable', 'bool', keepEmpty),
  },
  'v1/ServiceAccount': {
    1: metadata,
    2: f(
      'secrets',
      {
        1: f('kind', 'string'),
        2: f('namespace', 'string'),
        3: f('name', 'string'),
        4: f('uid', 'string'),
        5: f('apiVersion', 'string'),
      },
      { repeated: true },
    ),
    3: f('imagePullSecrets', { 1: f('name', 'string') }, { repeated: true }),
    4: f('automountServiceAccountToken', 'bool', keepEmpty),
  },
  'rbac.authorization.k8s.io/v1/Role': { 1: metadata, 2: f('rules', POLICY_RULE, { repeated: true }) },
  'rbac.authorization.k8s.io/v1/ClusterRole': {
    1: metadata,
    2: f('rules', POLICY_RULE, { repeated: true }),
    3: f('aggregationRule', { 1: f('clusterRoleSelectors', LABEL_SELECTOR, { repeated: true }) }),
  },
  'rbac.authorization.k8s.io/v1/RoleBinding': BINDING,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': BINDING,
};

const bytesOf = (v: Buffer | number): Buffer => (Buffer.isBuffer(v) ? v : Buffer.alloc(0));

const scalar = (type: Scalar, v: Buffer | number): unknown => {
  switch (type) {
    case 'string':
      return bytesOf(v).toString('utf8');
    case 'bytes':
      return bytesOf(v).toString('base64');
    case 'bool':
      return v === 1;
    case 'int':
      return typeof v === 'number' ? v : 0;
    case 'time': {
      // A zero Time (no seconds) is JSON's null: left out.
      const seconds = decode(bytesOf(v)).get(1)?.[0];
      return typeof seconds === 'number' && seconds !== 0
        ? new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')
        : '';
    }
  }
};

const value = (field: Field, v: Buffer | number): unknown =>
  typeof field.type === 'string' ? scalar(field.type, v) : message(field.type, decode(bytesOf(v)));

const message = (schema: Message, fields: Fields): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const [n, values] of fields) {
    const field = schema[n];
    if (!field) continue; // a field this emulator does not model (e.g. managedFields)
    if (field.map) {
      const entries: Record<string, unknown> = {};
      for (const entry of values) {
        const kv = decode(bytesOf(entry));
        const key = kv.get(1)?.[0];
        const val = kv.get(2)?.[0];
        entries[key === undefined ? '' : bytesOf(key).toString('utf8')] = scalar(
          field.map,
          val ?? Buffer.alloc(0),
        );
      }
      out[field.name] = entries;
    } else if (field.repeated) out[field.name] = values.map((v) => value(field, v));
    else {
      const v = value(field, values.at(-1)!);
      if (field.keepEmpty || (v !== '' && v !== false && v !== 0)) out[field.name] = v;
    }
  }
  return out;
};

/**
 * The object a protobuf request body carries, as JSON; a kind without a message here is refused as
 * kube-apiserver refuses a media type it cannot decode.
 */
export const decodeObject = (body: Buffer): Record<string, unknown> => {
  const { apiVersion, kind, raw } = envelope(body);
  const schema = KINDS[`${apiVersion}/${kind}`];
  if (!schema)
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml',
    );
  return { apiVersion, kind, ...message(schema, decode(raw)) };
};
