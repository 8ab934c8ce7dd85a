// The manifest as YAML documents, each rule preceded by a comment saying why it is needed, or as a
// v1 List in JSON; both are ready for `kubectl apply -f -`.
import { Document, isMap, isSeq } from 'yaml';
import type { RbacObject } from './manifest.ts';

export const rbacYaml = (objects: readonly RbacObject[], header: string): string => {
  const docs = objects.map(({ object, ruleComments }, i) => {
    const doc = new Document(object);
    if (i === 0) doc.commentBefore = header;
    const rules = doc.get('rules', true);
    if (isSeq(rules) && ruleComments) {
      rules.items.forEach((item, j) => {
        if (!isMap(item)) return;
        if (ruleComments[j]) item.commentBefore = ` ${ruleComments[j]}`;
        // [""], [get, list]: one line per list, as RBAC rules are usually written.
        for (const pair of item.items) if (isSeq(pair.value)) pair.value.flow = true;
      });
    }
    return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  });
  return docs.join('---\n');
};

export const rbacJson = (objects: readonly RbacObject[]): string =>
  `${JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: {}, items: objects.map((o) => o.object) }, null, 2)}\n`;
