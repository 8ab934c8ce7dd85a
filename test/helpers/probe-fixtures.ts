// Where the recorded probe fixtures live and the fixed nonce they were recorded with (a real run uses
// a random one; fixtures need a stable one so the raw output can be replayed).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURE_NONCE = 'f1a77e1c0ffee0d0f1a77e1c0ffee0d0';
export const PROBE_FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'probe');

export interface ProbeFixture {
  /** e.g. iproute2-6.1.0/vxlan */
  readonly id: string;
  readonly raw: string;
  readonly expected: string;
}

/** Every `<version>/<case>.txt` with its `<case>.expected.json`. */
export const listProbeFixtures = (): ProbeFixture[] =>
  readdirSync(PROBE_FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(join(PROBE_FIXTURES, d.name))
        .filter((f) => f.endsWith('.txt'))
        .sort()
        .map((f) => ({
          id: `${d.name}/${f.slice(0, -'.txt'.length)}`,
          raw: join(PROBE_FIXTURES, d.name, f),
          expected: join(PROBE_FIXTURES, d.name, `${f.slice(0, -'.txt'.length)}.expected.json`),
        })),
    );
