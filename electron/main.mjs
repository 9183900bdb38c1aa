// Electron entry (package.json "main" of the packaged app, or `electron electron/main.mjs`).
// The sources are TypeScript run through tsx's loader, like the CLI.
import { register } from 'tsx/esm/api';

register();
await import('./app.ts');
