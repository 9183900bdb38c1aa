import { describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';
import { gdalinfo } from '../helpers/gdal.ts';

describe('geoanomaly demo (the README main job), with minimal training', () => {
  it('runs data → krige → faults → sites → train → predict → explain → evaluate and writes the summary', async () => {
    const out = tempDir('ga-demo-');
    // Asynchronous: a synchronous child would block this worker's event loop (and vitest's RPC) for a minute.
    const r = await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'main/cli/bin.mjs'), 'demo', '--out', out, '--epochs', '1', '--folds', '2', '--seed', '3'], {
      encoding: 'utf8',
      cwd: REPO_ROOT,
      timeout: 900_000,
      maxBuffer: 64 * 1024 * 1024,
    }).catch((e: { code?: number; stderr?: string }) => ({ stdout: '', stderr: `exit ${e.code}: ${String(e.stderr).slice(-2000)}` }));
    expect(r.stderr).not.toMatch(/^exit /);
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    for (const m of ['cnn', 'dcn', 'gk-cnn', 'gk-dcn']) {
      expect(summary).toMatch(new RegExp(`^\\| ${m} \\| [0-9.]+ ± `, 'm'));
      const ev = JSON.parse(readFileSync(join(out, 'eval', `${m}.json`), 'utf8'));
      expect(Object.keys(ev)).toEqual(expect.arrayContaining(['auc', 'successRate', 'paIntersection', 'caBreaks']));
      // The map AUC the demo reports is the one of the map it wrote, scored on the held-out deposits
      // only (training-site cells removed): recomputed from the files by GDAL + scikit-learn
      // (tests/demo/recompute_map_auc.py); ≤ 1e-9, float summation order only (both count ties as ½).
      const ref = JSON.parse(execFileSync('/usr/bin/python3', [join(REPO_ROOT, 'tests/demo/recompute_map_auc.py'), join(out, 'maps', 'probability.tif'), `p_${m}`, join(out, 'data', 'deposits-holdout.geojson'), join(out, 'sites.geojson')], { encoding: 'utf8' })) as { auc: number; deposits: number };
      expect(ref.deposits, `${m}: held-out deposit cells`).toBeGreaterThan(0);
      expect(Math.abs(ev.auc - ref.auc), `${m}: evaluate AUC ${ev.auc} vs sklearn ${ref.auc}`).toBeLessThanOrEqual(1e-9);
    }
    const prob = gdalinfo(join(out, 'maps', 'probability.tif'));
    // predict's default ensemble (final + fold models) adds one sd_<model> band per model.
    expect(prob.bands.map((b) => b.description)).toEqual(['p_cnn', 'p_dcn', 'p_gk-cnn', 'p_gk-dcn', 'diff_gk-dcn_minus_gk-cnn', 'sd_cnn', 'sd_dcn', 'sd_gk-cnn', 'sd_gk-dcn', 'window_mask']);
    const stack = gdalinfo(join(out, 'grids', 'stack.tif'));
    expect(stack.bands).toHaveLength(39);
    for (const f of ['maps/probability-maps.png', 'maps/probability-maps.svg', 'explain/gradcam-cnn-vs-dcn.png', 'explain/gradcam-gk-cnn-vs-gk-dcn.png', 'explain/offsets-dcn.png', 'knowledge/powerlaw.json', 'sites.geojson', 'run/manifest.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    // Held-out deposits are never training deposits.
    const train = JSON.parse(readFileSync(join(out, 'data', 'deposits-train.geojson'), 'utf8')).features.map((f: { properties: { id: string } }) => f.properties.id);
    const hold = JSON.parse(readFileSync(join(out, 'data', 'deposits-holdout.geojson'), 'utf8')).features.map((f: { properties: { id: string } }) => f.properties.id);
    expect(hold.length).toBe(12);
    expect(hold.filter((id: string) => train.includes(id))).toEqual([]);
  }, 900_000);
});
