import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FuseV1Options, FuseVersion } from '@electron/fuses';
import { APP_PAGE_URL, APP_SCHEME_PRIVILEGES, resolveAppPath } from '../../electron/app-protocol.ts';
import { isTrustedSender } from '../../electron/security.ts';
import { REPO_ROOT } from '../helpers/paths.ts';

/**
 * What of issue 19's Electron part can be tested without the Electron binary (not installed
 * here): the app:// path mapping, the scheme's privileges, the fuse configuration handed to
 * @electron/fuses, and the builder config. NOT tested: that Electron 41 serves the page through
 * protocol.handle, that flipFuses rewrites a real binary, that the app starts from app.asar.
 */
const DIST = '/opt/geoanomaly/renderer/dist';
const require = createRequire(import.meta.url);
const afterPack = require('../../build/after-pack.cjs') as {
  fuseConfig(reset?: boolean): Record<string, unknown>;
  electronBinaryPath(platform: string, appOutDir: string, productFilename: string, executableName: string): string;
};

describe('app:// protocol mapping (electron/app-protocol.ts)', () => {
  it('maps the page and its assets into the renderer build', () => {
    expect(resolveAppPath(APP_PAGE_URL, DIST)).toBe(join(DIST, 'index.html'));
    expect(resolveAppPath('app://workbench/', DIST)).toBe(join(DIST, 'index.html'));
    expect(resolveAppPath('app://workbench/assets/index-3f2a.js', DIST)).toBe(join(DIST, 'assets/index-3f2a.js'));
    expect(resolveAppPath('app://workbench/assets/a%20b.css?v=2#x', DIST)).toBe(join(DIST, 'assets/a b.css'));
  });

  it('refuses traversal, other hosts and schemes, NUL, backslashes and bad escapes', () => {
    const refused = [
      'app://workbench/../../etc/passwd',
      'app://workbench/%2e%2e/%2e%2e/etc/passwd',
      'app://workbench/assets/..%2f..%2f..%2fetc%2fpasswd',
      'app://workbench/%2F..%2F..%2Fetc%2Fpasswd',
      'app://workbench/..%5c..%5cwindows%5cwin.ini',
      'app://workbench/assets\\..\\..\\secret',
      'app://workbench/index.html%00.png',
      'app://workbench/%E0%A4%A',
      'app://evil/index.html',
      'app://workbench:8080/index.html',
      'app://user:pw@workbench/index.html',
      'file:///opt/geoanomaly/renderer/dist/index.html',
      'https://workbench/index.html',
      'not a url',
    ];
    for (const u of refused) {
      const r = resolveAppPath(u, DIST);
      expect(r === null || (r.startsWith(DIST + '/') && !r.includes('..')), `${u} → ${r}`).toBe(true);
      // Those whose escape survives URL parsing (encoded separators, NUL, other origins) are refused outright.
      if (!/^app:\/\/workbench\/(\.\.|%2e%2e)\//.test(u)) expect(r, u).toBeNull();
    }
    // Plain and %2e-encoded dot segments are folded by URL parsing itself (WHATWG, as in Chromium)
    // and clamp at the root: they name a file inside the build, which does not exist there (404).
    expect(resolveAppPath('app://workbench/../../etc/passwd', DIST)).toBe(join(DIST, 'etc/passwd'));
    expect(resolveAppPath('app://workbench/%2e%2e/%2e%2e/etc/passwd', DIST)).toBe(join(DIST, 'etc/passwd'));
  });

  it('registers app:// as a standard, secure scheme without CSP bypass', () => {
    expect(APP_SCHEME_PRIVILEGES.scheme).toBe('app');
    expect(APP_SCHEME_PRIVILEGES.privileges).toMatchObject({ standard: true, secure: true, supportFetchAPI: true });
    expect(APP_SCHEME_PRIVILEGES.privileges).not.toHaveProperty('bypassCSP');
    expect(APP_SCHEME_PRIVILEGES.privileges).not.toHaveProperty('corsEnabled');
  });

  it('trusts IPC only from app://workbench/index.html, no longer from the file:// page', () => {
    expect(isTrustedSender(APP_PAGE_URL, DIST)).toBe(true);
    expect(isTrustedSender(`${APP_PAGE_URL}?a=1#b`, DIST)).toBe(true);
    for (const u of [`file://${DIST}/index.html`, 'app://workbench/other.html', 'app://evil/index.html', 'app://workbench/assets/../../index.html/x']) expect(isTrustedSender(u, DIST), u).toBe(false);
  });
});

describe('fuses (build/after-pack.cjs) and builder config', () => {
  it('sets RunAsNode and EnableNodeCliInspectArguments off, asar integrity and OnlyLoadAppFromAsar on, every fuse decided', () => {
    const c = afterPack.fuseConfig();
    expect(c.version).toBe(FuseVersion.V1);
    expect(c.strictlyRequireAllFuses).toBe(true);
    expect(c[FuseV1Options.RunAsNode]).toBe(false);
    expect(c[FuseV1Options.EnableNodeCliInspectArguments]).toBe(false);
    expect(c[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(true);
    expect(c[FuseV1Options.OnlyLoadAppFromAsar]).toBe(true);
    expect(c[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(false);
    expect(c[FuseV1Options.GrantFileProtocolExtraPrivileges]).toBe(false);
    // Every option @electron/fuses 1.8.0 knows is set (what strictlyRequireAllFuses demands at build time).
    const options = Object.values(FuseV1Options).filter((v): v is number => typeof v === 'number');
    for (const o of options) expect(typeof c[o], FuseV1Options[o]).toBe('boolean');
    expect(afterPack.fuseConfig(true).resetAdHocDarwinSignature).toBe(true);
  });

  it('finds the Electron binary of each platform in appOutDir', () => {
    expect(afterPack.electronBinaryPath('darwin', '/o', 'GeoAnomaly Workbench', 'geoanomaly-workbench')).toBe('/o/GeoAnomaly Workbench.app');
    expect(afterPack.electronBinaryPath('win32', '/o', 'GeoAnomaly Workbench', 'geoanomaly-workbench')).toBe('/o/GeoAnomaly Workbench.exe');
    expect(afterPack.electronBinaryPath('linux', '/o', 'GeoAnomaly Workbench', 'geoanomaly-workbench')).toBe('/o/geoanomaly-workbench');
  });

  it('builds with asar: true, the afterPack hook, and native/wasm files unpacked', () => {
    // Top-level keys of the YAML read line by line (no YAML parser is a declared dependency).
    const text = readFileSync(join(REPO_ROOT, 'build/electron-builder.yml'), 'utf8');
    const top = (key: string): string | undefined => new RegExp(`^${key}:[ \\t]*(.*)$`, 'm').exec(text)?.[1].replace(/\s+#.*$/, '').trim();
    expect(top('asar')).toBe('true');
    expect(top('afterPack')).toBe('build/after-pack.cjs');
    const unpack = /^asarUnpack:\n((?:[ \t]+- .*\n)+)/m.exec(text)?.[1] ?? '';
    expect(unpack).toContain('"**/*.node"');
    expect(unpack).toContain('"**/*.wasm"');
    expect(() => require.resolve('../../build/after-pack.cjs')).not.toThrow();
  });

  it('pins Electron 41.10.0 (the newest line that installs on Node 20; see docs/app.md)', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { optionalDependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(pkg.optionalDependencies.electron).toBe('41.10.0');
    expect(pkg.devDependencies['@electron/fuses']).toBe('1.8.0');
  });
});
