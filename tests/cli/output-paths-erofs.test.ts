import { describe, expect, it, vi } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/paths.ts';

// No read-only file system can be mounted on the test machine, so EROFS is injected: access()
// on a folder named "read-only-disk" fails as it does on a read-only mount (access(2): EROFS).
// This checks the mapping of that error, not the kernel's behaviour.
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    accessSync: (path: import('node:fs').PathLike, mode?: number): void => {
      if (String(path).endsWith('read-only-disk')) throw Object.assign(new Error(`EROFS: read-only file system, access '${String(path)}'`), { code: 'EROFS' });
      // EACCES as access(2) reports it for a folder the user may not write (output-paths.test.ts
      // checks the real thing as uid 65534 where the checkout allows it).
      if (String(path).endsWith('no-permission')) throw Object.assign(new Error(`EACCES: permission denied, access '${String(path)}'`), { code: 'EACCES' });
      fs.accessSync(path, mode);
    },
  };
});

// A fresh module graph, so output-paths.ts binds to the mocked node:fs even when another test file
// in the same worker loaded it first (`npm run test:fast` does not isolate files).
vi.resetModules();
const { checkOutputPaths, OutputPathError } = await import('../../main/util/output-paths.ts');

describe('output path on a read-only file system (EROFS, injected)', () => {
  it('is refused before any work with OutputPathError "read-only", naming the flag and the fix', () => {
    const ro = join(tempDir('erofs-'), 'read-only-disk');
    mkdirSync(ro);
    try {
      checkOutputPaths([{ flag: 'out', path: join(ro, 'runs', 'prob.tif'), kind: 'file' }]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(OutputPathError);
      expect((e as InstanceType<typeof OutputPathError>).problem).toBe('read-only');
      expect((e as Error).message).toMatch(/--out .*prob\.tif: .*read-only-disk is on a read-only file system\. Give --out a path on a writable disk/);
    }
  });

  it('an unwritable folder (EACCES, injected) is refused with OutputPathError "not writable"', () => {
    const locked = join(tempDir('eacces-'), 'no-permission');
    mkdirSync(locked);
    try {
      checkOutputPaths([{ flag: 'out', path: join(locked, 'sub', 'prob.tif'), kind: 'file' }]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(OutputPathError);
      expect((e as Error).message).toMatch(/--out .*no-permission\/sub\/prob\.tif: .*no-permission is not writable/);
    }
  });
});
