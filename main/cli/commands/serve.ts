import type { Command } from '../command.ts';
import { optionalNumber, optionalString } from '../command.ts';
import { InvalidOptionError } from '../../errors.ts';
import { startBrowserHost } from '../../api/browser-host.ts';
import { ensureRendererBuilt } from '../../api/renderer-build.ts';
import { removeStaleTemps } from '../../util/stale-temp.ts';
import { userDataDir } from '../../project/user-data-dir.ts';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the workbench in a web browser (local only, token-protected)',
  usage: '[--port N] [--data-dir DIR]',
  options: {
    port: { type: 'string', description: 'TCP port on 127.0.0.1 (0 = any free port)', valueName: 'N', default: '0' },
    'data-dir': { type: 'string', description: 'user data folder (recent projects, demo survey); default: the desktop app\'s', valueName: 'DIR' },
    'build-only': { type: 'boolean', description: 'build the renderer if it is missing, then exit (used by npm start before Electron)' },
    'static-dir': { type: 'string', description: 'built renderer to serve (default: renderer/dist, built on first use)', valueName: 'DIR' },
  },
  details:
    'Serves the workbench UI and its backend on http://127.0.0.1 only. The printed URL carries a\n' +
    'random per-launch token; open it in a browser on this machine. Stop with Ctrl+C.\n' +
    'Example: geoanomaly serve --port 8765',
  async run(args, io) {
    const port = optionalNumber(args, 'port', 'serve') ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidOptionError(`geoanomaly serve: --port must be an integer 0…65535, got ${port}`);
    const staticDir = optionalString(args, 'static-dir') ?? (await ensureRendererBuilt({ log: io.err }));
    if (args.values['build-only']) return 0;
    const dataDir = optionalString(args, 'data-dir') ?? userDataDir();
    removeStaleTemps(dataDir); // app start: temps of killed saves of recent-projects.json etc.
    const host = await startBrowserHost({ port, staticDir, dataDir });
    io.out(`GeoAnomaly Workbench is running at ${host.url}`);
    io.out(`(data folder: ${dataDir}; press Ctrl+C to stop)`);
    await new Promise<void>((res) => {
      if (io.signal.aborted) res();
      else io.signal.addEventListener('abort', () => res(), { once: true });
    });
    await host.close();
    return 0;
  },
};
