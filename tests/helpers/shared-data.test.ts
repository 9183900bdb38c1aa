import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SHARED_DATA } from './paths.ts';
import { MissingReferenceDataError, sharedData } from './shared-data.ts';

describe('sharedData: reference data beside the repository', () => {
  it('a missing file fails with its absolute path, the data set and the way out, not ENOENT', () => {
    const rel = 'no-such-set/never-there.tif';
    let err: unknown;
    try {
      sharedData(rel);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MissingReferenceDataError);
    const message = (err as Error).message;
    expect(message).toContain(join(SHARED_DATA, rel));
    expect(message).toContain('../shared/data');
    expect(message).toContain('README.md');
    expect(message).toContain('npm run test:fast');
    expect(message).not.toMatch(/ENOENT/);
  });
});
