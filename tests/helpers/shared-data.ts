import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_DATA } from './paths.ts';

/**
 * The reference data beside the repository (`../shared/data`: the Tianshan GK-DCN case study, the
 * hyperspectral cubes, the PyKrige kt3d outputs). It is never copied into the repository, so a
 * fresh clone without it must say which file is missing and where it comes from, instead of
 * failing deep inside a reader with a bare ENOENT.
 */
export class MissingReferenceDataError extends Error {
  constructor(readonly path: string) {
    super(
      `${path} is missing: this test reads the reference data in ../shared/data (expected at ${SHARED_DATA}). ` +
        'Put the data set there (README.md, "Set-up": the reference data in ../shared), or run `npm run test:fast`, which skips the tests that need it.',
    );
    this.name = 'MissingReferenceDataError';
  }
}

/** Absolute path of `relative` inside ../shared/data; throws MissingReferenceDataError when it is absent. */
export function sharedData(relative: string): string {
  const p = join(SHARED_DATA, relative);
  if (!existsSync(p)) throw new MissingReferenceDataError(p);
  return p;
}

/** A file or folder of the Tianshan GK-DCN case study (../shared/data/tianshan-gkdcn/…). */
export const tianshan = (relative = ''): string => sharedData(join('tianshan-gkdcn', relative));
