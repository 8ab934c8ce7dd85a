import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import type { KubeClient } from '../kube/client.ts';
import { displayName, refOf, type KubeObject } from '../kube/kube-object.ts';
import { isSubset, projectOnto } from '../kube/subset.ts';

export type ObjectAction = 'created' | 'configured' | 'unchanged';

export interface ObjectPlan {
  readonly object: KubeObject;
  readonly live?: KubeObject;
  readonly action: ObjectAction;
}

/** For each desired object: does it exist, and does the live one already hold every field we set? */
export const planObjects = (kube: KubeClient, desired: readonly KubeObject[]): Promise<ObjectPlan[]> =>
  Promise.all(
    desired.map(async (object) => {
      const live = await kube.get(refOf(object));
      if (!live) return { object, action: 'created' as const };
      return {
        object,
        live,
        action: isSubset(object, live) ? ('unchanged' as const) : ('configured' as const),
      };
    }),
  );

const toText = (value: unknown): string => stringify(value, { lineWidth: 0 });

/** A unified diff per changed object, live (cut to the fields flannelctl manages) against desired. */
export const renderDiff = (plans: readonly ObjectPlan[]): string =>
  plans
    .filter((p) => p.action !== 'unchanged')
    .map((p) => {
      const name = displayName(refOf(p.object));
      const before = p.live ? toText(projectOnto(p.live, p.object)) : '';
      return createTwoFilesPatch(`live/${name}`, `flannelctl/${name}`, before, toText(p.object), '', '', {
        context: 3,
      });
    })
    .join('');
