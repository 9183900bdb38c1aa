import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './paths.ts';

/**
 * Runs `geoanomaly <args>` as its own process, as a user would (main/cli/bin.mjs), for tests
 * that build their inputs with the CLI; rejects with the command's stderr when it fails.
 */
export async function runCli(...args: string[]): Promise<void> {
  await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'main/cli/bin.mjs'), ...args], { cwd: REPO_ROOT, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
}
