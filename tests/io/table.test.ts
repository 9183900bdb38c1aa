import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import ExcelJS from 'exceljs';
import { readSampleTable, inspectSampleTable } from '../../main/io/table.ts';
import { classifyCell, splitHeaderUnit } from '../../main/io/censored-values.ts';
import { crsFromEpsg, parseCrs, requireProjected, makeTransform } from '../../main/grid/crs.ts';
import { CrsError, InvalidFileError, UnparseableCellError, EmptyInputError } from '../../main/errors.ts';
import { tempDir } from '../helpers/paths.ts';

const utm = crsFromEpsg(32645);

describe('censored values and units', () => {
  it('classifies detection-limit markers, numbers and missing cells', () => {
    expect(classifyCell('<0.5')).toEqual({ kind: 'censored', limit: 0.5 });
    expect(classifyCell('< 2')).toEqual({ kind: 'censored', limit: 2 });
    expect(classifyCell('-0.5')).toEqual({ kind: 'censored', limit: 0.5 });
    expect(classifyCell(-0.5)).toEqual({ kind: 'censored', limit: 0.5 });
    expect(classifyCell('-0.5', { negativeIsCensored: false })).toEqual({ kind: 'number', value: -0.5 });
    expect(classifyCell('ND')).toEqual({ kind: 'censored', limit: null });
    expect(classifyCell('bdl')).toEqual({ kind: 'censored', limit: null });
    expect(classifyCell('12.5')).toEqual({ kind: 'number', value: 12.5 });
    expect(classifyCell('1e-3')).toEqual({ kind: 'number', value: 0.001 });
    expect(classifyCell('0,5')).toEqual({ kind: 'number', value: 0.5 });
    expect(classifyCell('')).toEqual({ kind: 'missing' });
    expect(classifyCell('NA')).toEqual({ kind: 'missing' });
    expect(classifyCell('12..5')).toEqual({ kind: 'invalid' });
    expect(classifyCell('abc')).toEqual({ kind: 'invalid' });
  });
  it('reads units from headers', () => {
    expect(splitHeaderUnit('Au_ppb')).toEqual({ name: 'Au', unit: 'ppb' });
    expect(splitHeaderUnit('Cu (ppm)')).toEqual({ name: 'Cu', unit: 'ppm' });
    expect(splitHeaderUnit('SiO2_pct')).toEqual({ name: 'SiO2', unit: '%' });
    expect(splitHeaderUnit('Fe2O3 [%]')).toEqual({ name: 'Fe2O3', unit: '%' });
    expect(splitHeaderUnit('Zn')).toEqual({ name: 'Zn', unit: null });
  });
});

describe('sample tables (CSV, TSV, XLSX)', () => {
  const csv = ['id,x,y,Au_ppb,Cu_ppm,lith', 'a,500000,4600000,<0.5,12,granite', 'b,500100,4600050,-0.5,ND,schist', 'c,500200,4600100,3.2,,granite', 'd,500200,4600100,1.1,8,schist'].join('\n');

  it('substitutes ½·DL for censored cells, counts censored and missing per column, keeps text columns', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 's.csv'), csv);
    const t = await readSampleTable(join(dir, 's.csv'), { x: 'x', y: 'y', crs: utm });
    expect(t.rowCount).toBe(4);
    expect(t.columns).toEqual(['Au', 'Cu']);
    expect(t.units).toEqual({ Au: 'ppb', Cu: 'ppm' });
    expect(Array.from(t.values.Au)).toEqual([0.25, 0.25, 3.2, 1.1]);
    // "ND" has no number: the smallest detected value of the column (8) stands in as the limit.
    expect(t.values.Cu[1]).toBe(4);
    expect(Number.isNaN(t.values.Cu[2])).toBe(true);
    expect(t.censored).toEqual({ Au: 2, Cu: 1 });
    expect(t.missing).toEqual({ Au: 0, Cu: 1 });
    expect(t.attributes.lith).toEqual(['granite', 'schist', 'granite', 'schist']);
    expect(t.duplicateLocations).toBe(1);
    const t2 = await readSampleTable(join(dir, 's.csv'), { x: 'x', y: 'y', crs: utm, censorFraction: 1, detectionLimits: { Cu: 5 } });
    expect(t2.values.Au[0]).toBe(0.5);
    expect(t2.values.Cu[1]).toBe(5);
  });

  it('reads TSV and XLSX (exceljs) with the same result', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 's.tsv'), csv.replace(/,/g, '\t'));
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('samples');
    for (const line of csv.split('\n')) ws.addRow(line.split(',').map((v) => (/^-?[0-9.]+$/.test(v) ? Number(v) : v)));
    await wb.xlsx.writeFile(join(dir, 's.xlsx'));
    const a = await readSampleTable(join(dir, 's.tsv'), { x: 'x', y: 'y', crs: utm });
    const b = await readSampleTable(join(dir, 's.xlsx'), { x: 'x', y: 'y', crs: utm });
    expect(Array.from(b.values.Au)).toEqual(Array.from(a.values.Au));
    expect(Array.from(b.x)).toEqual(Array.from(a.x));
    expect(b.censored).toEqual(a.censored);
  });

  it('names row and column of an unparseable cell, and missing coordinate columns', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.csv'), 'x,y,Au\n1,2,0.5\n3,4,0.7\n5,6,12..5\n');
    const err = await readSampleTable(join(dir, 'bad.csv'), { x: 'x', y: 'y', crs: utm }).catch((e) => e);
    expect(err).toBeInstanceOf(UnparseableCellError);
    expect(err.message).toMatch(/bad\.csv: row 4, column "Au" holds "12\.\.5"/);
    await expect(readSampleTable(join(dir, 'bad.csv'), { x: 'east', y: 'y', crs: utm })).rejects.toThrow(/has no column east.*Choose the coordinate columns among: x, y, Au/);
    writeFileSync(join(dir, 'badxy.csv'), 'x,y,Au\n1,2,0.5\nfoo,4,0.7\n');
    await expect(readSampleTable(join(dir, 'badxy.csv'), { x: 'x', y: 'y', crs: utm })).rejects.toThrow(/row 3, column "x"/);
    writeFileSync(join(dir, 'header-only.csv'), 'x,y,Au\n');
    await expect(readSampleTable(join(dir, 'header-only.csv'), { x: 'x', y: 'y', crs: utm })).rejects.toThrow(EmptyInputError);
    await expect(readSampleTable(join(dir, 'missing.csv'), { x: 'x', y: 'y', crs: utm })).rejects.toThrow(InvalidFileError);
  });

  it('reprojects with proj4 as gdaltransform (GDAL/PROJ) does, and refuses geographic CRS for distance work', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'll.csv'), 'lon,lat,Au\n86.1,41.7,1\n87.3,42.2,2\n');
    const wgs = parseCrs('EPSG:4326');
    const t = await readSampleTable(join(dir, 'll.csv'), { x: 'lon', y: 'lat', crs: wgs, targetCrs: utm });
    const ref = execFileSync('gdaltransform', ['-s_srs', 'EPSG:4326', '-t_srs', 'EPSG:32645', '-output_xy'], { input: '86.1 41.7\n87.3 42.2\n', encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number));
    // Same transverse Mercator formulas: agreement to 1 mm.
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(t.x[i] - ref[i][0])).toBeLessThan(1e-3);
      expect(Math.abs(t.y[i] - ref[i][1])).toBeLessThan(1e-3);
    }
    const raw = await inspectSampleTable(join(dir, 'll.csv'), { x: 'lon', y: 'lat', crs: wgs });
    expect(() => requireProjected(raw.crs, 'll.csv')).toThrow(CrsError);
    expect(() => requireProjected(raw.crs, 'll.csv')).toThrow(/geographic coordinates.*Pick a projected CRS/);
    expect(makeTransform(utm, utm)([1, 2])).toEqual([1, 2]);
  });
});
