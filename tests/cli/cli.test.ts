import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commands } from '../../main/cli/commands/index.ts';
import { main } from '../../main/cli/main.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';
import { tianshan } from '../helpers/shared-data.ts';

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'main/cli/bin.mjs'), ...args], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('geoanomaly CLI', () => {
  it('has --help on every subcommand, listed in the top-level help', async () => {
    const top = cli('--help');
    expect(top.code).toBe(0);
    // In-process for the subcommands: one module load instead of one process per command.
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      for (const c of commands) {
        expect(top.stdout).toContain(c.name);
        written.length = 0;
        const code = await main([c.name, '--help']);
        expect(code, `${c.name} --help`).toBe(0);
        expect(written.join('')).toContain(`Usage: geoanomaly ${c.name}`);
      }
    } finally {
      process.stdout.write = write;
    }
    expect(cli('no-such-command').code).toBe(2);
  });

  it('demo-data then info on each kind of file exits 0 with the facts', () => {
    const dir = tempDir();
    const d = cli('demo-data', '--out', dir, '--seed', '9');
    expect(d.code, d.stderr).toBe(0);
    const t = cli('info', join(dir, 'samples.csv'), '--x', 'x', '--y', 'y', '--crs', 'EPSG:32645');
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/rows:\s+\d{4}/);
    expect(t.stdout).toMatch(/element columns \(39\)/);
    expect(t.stdout).toMatch(/Au\s+ppb\s+\d+/);
    const v = cli('info', join(dir, 'faults.geojson'));
    expect(v.stdout).toMatch(/features:\s+6 \(6 LineString\)/);
    expect(v.stdout).toMatch(/EPSG:32645/);
    const r = cli('info', tianshan('elements'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/289 cols × 117 rows, 39 bands/);
  });

  it('exits 1 with a named error naming the file for bad input, and 2 for a usage error', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'broken.tif'), 'garbage');
    const b = cli('info', join(dir, 'broken.tif'));
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/InvalidFileError: .*broken\.tif: not a readable GeoTIFF/);
    const u = cli('demo-data');
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/--out is required/);
    expect(existsSync(join(dir, 'samples.csv'))).toBe(false);
  });
});
