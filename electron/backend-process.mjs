// Utility-process entry: the workbench backend behind Electron's parentPort.
// argv[2] = the user data folder (app.getPath('userData') of the main process).
import { register } from 'tsx/esm/api';

register();
const { serveOverPort } = await import('../main/api/port-backend.ts');
serveOverPort(process.parentPort, { dataDir: process.argv[2], host: 'electron' }, () => process.exit(0));
