import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { windowOptions, isTrustedSender, isAllowedNavigation, allowPermission, CSP, appPageUrl } from '../../electron/security.ts';
import { menuTemplate } from '../../electron/menu.ts';
import { contentSecurityPolicy } from '../../main/api/csp.ts';
import type { MenuAction } from '../../main/api/contract.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

const RENDERER = join(tempDir('ga-sec-'), 'renderer', 'dist');

describe('window options', () => {
  it('set every security flag explicitly', () => {
    const o = windowOptions('/app/electron/preload.cjs');
    expect(o.webPreferences).toEqual({
      preload: '/app/electron/preload.cjs',
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
    });
    expect(o.show).toBe(false);
  });
});

describe('content security policy', () => {
  it('allows only the app bundle to run and nothing remote', () => {
    expect(CSP).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; " +
        "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    const directives = new Map(CSP.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    expect(directives.get('script-src')).toEqual(["'self'"]);
    for (const d of CSP.split('; ')) {
      expect(d).not.toMatch(/unsafe-eval|https?:|\*/);
    }
  });

  it('adds only the given WebSocket origin for the browser host', () => {
    const p = contentSecurityPolicy({ connectSrc: ['ws://127.0.0.1:4321'] });
    expect(p).toContain("connect-src 'self' ws://127.0.0.1:4321;");
    expect(p).not.toContain('frame-ancestors');
  });

  it('is the policy the renderer build injects (one definition)', () => {
    const html = readFileSync(join(REPO_ROOT, 'renderer/index.html'), 'utf8');
    expect(html).toContain('<!--CSP-->');
    const config = readFileSync(join(REPO_ROOT, 'renderer/vite.config.ts'), 'utf8');
    expect(config).toContain('contentSecurityPolicy()');
  });
});

describe('sender check', () => {
  const page = appPageUrl(RENDERER);

  it('accepts the app page, with or without query and hash', () => {
    expect(isTrustedSender(page, RENDERER)).toBe(true);
    expect(isTrustedSender(`${page}?x=1#layers`, RENDERER)).toBe(true);
  });

  it('rejects foreign frames', () => {
    const foreign = [
      'https://evil.example/index.html',
      'http://127.0.0.1:8080/index.html',
      pathToFileURL(join(RENDERER, '..', 'index.html')).href,
      pathToFileURL(join(RENDERER, 'other.html')).href,
      pathToFileURL('/tmp/index.html').href,
      `${page.replace('/index.html', '')}/../dist-evil/index.html`,
      'file://evil-host/' + page.slice('file:///'.length),
      'data:text/html,<script>1</script>',
      'about:blank',
      'devtools://devtools/bundled/index.html',
      'not a url',
      '',
      null,
      undefined,
    ];
    for (const url of foreign) expect(isTrustedSender(url, RENDERER), String(url)).toBe(false);
  });

  it('denies navigation away from the page and every permission', () => {
    expect(isAllowedNavigation('https://example.com/', RENDERER)).toBe(false);
    expect(isAllowedNavigation(page, RENDERER)).toBe(true);
    for (const p of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read']) expect(allowPermission(p)).toBe(false);
  });
});

describe('native menu', () => {
  it('has File, Edit, View and Help with the project actions', () => {
    const sent: MenuAction[] = [];
    let aboutShown = 0;
    const t = menuTemplate((a) => sent.push(a), { isMac: false, devTools: false, about: () => aboutShown++ });
    expect(t.map((m) => m.label)).toEqual(['File', 'Edit', 'View', 'Help']);
    const clickAll = (items: typeof t): void => items.forEach((i) => (i.click?.(), i.submenu && clickAll(i.submenu)));
    clickAll(t);
    expect(sent).toEqual(['new-project', 'open-project', 'save-project', 'save-project-as', 'import-layer', 'export-map', 'undo', 'redo']);
    expect(aboutShown).toBe(1);
    expect(JSON.stringify(t)).not.toContain('toggleDevTools');
  });
});
