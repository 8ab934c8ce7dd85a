// Compares what flannelctl wants with what the server holds. The server adds defaults and status, so
// "unchanged" means every field we set has the same value live; extra live fields don't count.

type Json = unknown;

const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when every field of `desired` is present with an equal value in `live` (lists must match in length). */
export const isSubset = (desired: Json, live: Json): boolean => {
  if (Array.isArray(desired)) {
    return (
      Array.isArray(live) && live.length === desired.length && desired.every((d, i) => isSubset(d, live[i]))
    );
  }
  if (isObject(desired)) {
    return isObject(live) && Object.entries(desired).every(([k, v]) => isSubset(v, live[k]));
  }
  return desired === live;
};

/** `live` cut down to the fields `desired` sets, so a diff shows only what flannelctl manages. */
export const projectOnto = (live: Json, desired: Json): Json => {
  if (Array.isArray(desired) && Array.isArray(live)) {
    return live.map((l, i) => (i < desired.length ? projectOnto(l, desired[i]) : l));
  }
  if (isObject(desired) && isObject(live)) {
    const out: Record<string, Json> = {};
    for (const key of Object.keys(desired)) if (key in live) out[key] = projectOnto(live[key], desired[key]);
    return out;
  }
  return live;
};
