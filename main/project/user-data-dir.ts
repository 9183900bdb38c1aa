import { homedir } from 'node:os';
import { join } from 'node:path';

/** Product name as Electron uses it for app.getPath('userData'), so both hosts share one folder. */
export const PRODUCT_NAME = 'GeoAnomaly Workbench';

/**
 * The per-user data folder (recent projects, generated demo survey, autosaves of unsaved
 * projects): $GEOANOMALY_DATA_DIR if set, else the platform's convention — the same folder
 * Electron's app.getPath('userData') returns, so the desktop app and `geoanomaly serve` agree.
 */
export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.GEOANOMALY_DATA_DIR) return env.GEOANOMALY_DATA_DIR;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), PRODUCT_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', PRODUCT_NAME);
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), PRODUCT_NAME);
}
