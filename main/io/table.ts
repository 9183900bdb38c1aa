import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import Papa from 'papaparse';
import { ExcelJS } from './exceljs-lazy.ts';
import type { Crs } from '../grid/crs.ts';
import { makeTransform } from '../grid/crs.ts';
import { EmptyInputError, InvalidFileError, InvalidOptionError, UnparseableCellError, WorkbenchError } from '../errors.ts';
import { classifyCell, splitHeaderUnit } from './censored-values.ts';

/** Point samples with numeric element columns, as read from CSV/TSV/XLSX. */
export interface SampleTable extends SampleTableData {
  /** CRS of x/y (the target CRS when the table was reprojected). */
  readonly crs: Crs;
}

/** The table's contents, with the CRS only if one was declared (see `inspectSampleTable`). */
export interface SampleTableData {
  readonly file: string;
  readonly crs: Crs | null;
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly rowCount: number;
  /** Numeric element columns, by (unit-stripped) name, in file order. */
  readonly columns: string[];
  /** Values per column; NaN = missing. Censored cells hold the substituted value. */
  readonly values: Record<string, Float64Array>;
  readonly units: Record<string, string | null>;
  /** Number of below-detection-limit cells per column (substituted). */
  readonly censored: Record<string, number>;
  /** Number of missing cells per column. */
  readonly missing: Record<string, number>;
  /** Text columns kept as strings (sample ids, lithology…). */
  readonly attributes: Record<string, string[]>;
  /** Pairs of rows sharing identical coordinates (reported, not removed). */
  readonly duplicateLocations: number;
}

export interface SampleTableOptions {
  /** Name of the x (easting) column. */
  readonly x: string;
  /** Name of the y (northing) column. */
  readonly y: string;
  /** CRS the coordinates are in. */
  readonly crs?: Crs;
  /** Reproject coordinates into this CRS. */
  readonly targetCrs?: Crs;
  /** Substitute this fraction of the detection limit for censored cells. @default 0.5 */
  readonly censorFraction?: number;
  /** Per-column units, overriding units parsed from headers ("Au_ppb"). */
  readonly units?: Readonly<Record<string, string>>;
  /** Per-column detection limits for cells marked "ND"/"BDL" without a number. */
  readonly detectionLimits?: Readonly<Record<string, number>>;
  /** Negative numbers mean "below |value|". @default true */
  readonly negativeIsCensored?: boolean;
  /** Restrict to these element columns (names as in the header, with or without unit). */
  readonly fields?: readonly string[];
}

type Grid = string[][] | unknown[][];

/** A delimited table row whose number of fields differs from its header's (strict CSV). */
export class RaggedRowError extends WorkbenchError {
  constructor(readonly file: string, readonly line: number, readonly fields: number, readonly headerFields: number, headerLine: number) {
    super(
      `${file}: line ${line} has ${fields} field(s), but the header (line ${headerLine}) has ${headerFields}. ` +
        `${fields < headerFields ? 'A value or delimiter is missing' : 'There is an extra delimiter, or a value holding the delimiter is not quoted'}; ` +
        'correct that line (quote values that contain the delimiter: "a,b") or delete it.',
      { file, line, fields, headerFields, headerLine },
    );
  }
}

/** Line feeds in text[from, to). */
function newlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/**
 * CSV/TSV via Papa Parse, strictly: every row must have as many fields as the header (Papa
 * Parse itself pads or accepts ragged rows silently), and errors name the file's 1-based line
 * (a quoted value may span lines, and blank lines are skipped, so rows ≠ lines).
 */
// Async read: the app's backend parses tables on its event loop (issue 19).
async function readDelimited(file: string): Promise<{ rows: unknown[][]; lines: number[] }> {
  const text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  if (text.trim() === '') {
    throw new EmptyInputError(file, `the file is empty (${text.length === 0 ? '0 bytes' : 'only blank lines'})`, 'Give a table with a header line and at least one sample row', { empty: true });
  }
  const rows: string[][] = [];
  const lines: number[] = [];
  let cursor = 0; // where the previous row ended
  let lineOfCursor = 1;
  let problem: { line: number; message: string } | null = null;
  Papa.parse<string[]>(text, {
    skipEmptyLines: 'greedy',
    delimiter: extname(file).toLowerCase() === '.tsv' ? '\t' : '',
    step: (r) => {
      // The row starts at the first non-blank character after the previous row's end.
      let start = cursor;
      while (start < text.length && /\s/.test(text[start]) && text[start] !== '\t') start++;
      const line = lineOfCursor + newlines(text, cursor, start);
      lineOfCursor = line + newlines(text, start, r.meta.cursor);
      cursor = r.meta.cursor;
      // A one-column table has no delimiter to detect; Papa Parse then uses ',' (right for it).
      const errs = r.errors.filter((e) => e.code !== 'UndetectableDelimiter');
      if (errs.length > 0 && !problem) problem = { line, message: errs[0].message };
      rows.push(r.data);
      lines.push(line);
    },
  });
  const p = problem as { line: number; message: string } | null;
  if (p) throw new InvalidFileError(file, `cannot parse the table at line ${p.line}: ${p.message}`, 'Check quoting and delimiters (comma, semicolon or tab)', { line: p.line });
  if (rows.length === 1) {
    throw new EmptyInputError(file, `the file is empty: a header line (${rows[0].length} column(s)) and no sample rows`, 'Add at least one sample row below the header', { empty: true });
  }
  const width = rows[0].length;
  for (let i = 1; i < rows.length; i++) if (rows[i].length !== width) throw new RaggedRowError(file, lines[i], rows[i].length, width, lines[0]);
  return { rows, lines };
}

async function readXlsx(file: string): Promise<{ rows: unknown[][]; lines: number[] }> {
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.readFile(file);
  } catch (e) {
    throw new InvalidFileError(file, `not a readable .xlsx workbook (${(e as Error).message})`, 'Save it again from Excel/LibreOffice as .xlsx, or export the sheet as CSV');
  }
  const ws = wb.worksheets[0];
  if (!ws) throw new EmptyInputError(file, 'the workbook has no worksheet', 'Put the samples on the first sheet');
  const rows: unknown[][] = [];
  const lines: number[] = [];
  ws.eachRow({ includeEmpty: false }, (row) => {
    lines.push(row.number);
    const vals: unknown[] = [];
    for (let c = 1; c <= ws.columnCount; c++) {
      const v = row.getCell(c).value as unknown;
      if (v && typeof v === 'object') {
        const o = v as { result?: unknown; richText?: { text: string }[]; text?: string };
        if ('result' in o) vals.push(o.result);
        else if (o.richText) vals.push(o.richText.map((t) => t.text).join(''));
        else if (o.text !== undefined) vals.push(o.text);
        else vals.push(String(v));
      } else vals.push(v ?? '');
    }
    rows.push(vals);
  });
  return { rows, lines };
}

/**
 * Reads the raw header row and cell matrix of a CSV, TSV or XLSX file; `lines` holds the file's
 * 1-based line of each data row (CSV/TSV: blank lines and multi-line quoted values make it differ
 * from row + 1; XLSX: the sheet row).
 */
export async function readTableCells(file: string): Promise<{ header: string[]; rows: Grid; lines: number[] }> {
  if (!existsSync(file)) throw new InvalidFileError(file, 'file not found', 'Check the path');
  const ext = extname(file).toLowerCase();
  let all: unknown[][];
  let lines: number[];
  if (ext === '.xlsx') ({ rows: all, lines } = await readXlsx(file));
  else if (ext === '.csv' || ext === '.tsv' || ext === '.txt') ({ rows: all, lines } = await readDelimited(file));
  else throw new InvalidFileError(file, `unsupported table type "${ext}"`, 'Use CSV, TSV or XLSX');
  if (all.length < 2) throw new EmptyInputError(file, 'the table has no data rows', 'Add at least one sample row below the header');
  const header = all[0].map((h) => String(h ?? '').trim());
  return { header, rows: all.slice(1), lines: lines.slice(1) };
}

function findColumn(header: readonly string[], wanted: string): number {
  const exact = header.indexOf(wanted);
  if (exact >= 0) return exact;
  const lower = wanted.toLowerCase();
  return header.findIndex((h) => h.toLowerCase() === lower || splitHeaderUnit(h).name.toLowerCase() === lower);
}

/**
 * Reads a sample table. Censored cells are replaced by censorFraction × limit and counted;
 * missing cells become NaN; any other non-numeric cell in a numeric column is an
 * UnparseableCellError naming its row and column. Columns that are mostly text are kept as
 * attributes. Coordinates must be numeric in every row.
 */
export async function readSampleTable(file: string, options: SampleTableOptions & { readonly crs: Crs }): Promise<SampleTable> {
  return (await inspectSampleTable(file, options)) as SampleTable;
}

const X_NAMES = ['x', 'easting', 'east', 'utm_e', 'utme', 'e', 'xcoord', 'x_coord'];
const Y_NAMES = ['y', 'northing', 'north', 'utm_n', 'utmn', 'n', 'ycoord', 'y_coord'];

/** Guesses the coordinate columns from common header names. */
export function guessCoordinateColumns(header: readonly string[]): { x: string | null; y: string | null } {
  const find = (names: string[]): string | null => header.find((h) => names.includes(h.trim().toLowerCase())) ?? null;
  return { x: find(X_NAMES), y: find(Y_NAMES) };
}

/** Like readSampleTable, but the CRS may be undeclared (for `geoanomaly info`). */
export async function inspectSampleTable(file: string, options: SampleTableOptions): Promise<SampleTableData> {
  const fraction = options.censorFraction ?? 0.5;
  if (!(fraction >= 0 && fraction <= 1)) throw new InvalidOptionError(`censorFraction must be in [0, 1], got ${fraction}`);
  const { header, rows, lines } = await readTableCells(file);
  const xi = findColumn(header, options.x);
  const yi = findColumn(header, options.y);
  if (xi < 0 || yi < 0) {
    const missing = [xi < 0 ? options.x : null, yi < 0 ? options.y : null].filter(Boolean).join(' and ');
    throw new InvalidFileError(file, `has no column ${missing}`, `Choose the coordinate columns among: ${header.join(', ')}`, { columns: header });
  }
  const n = rows.length;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    for (const [ci, arr] of [[xi, x], [yi, y]] as const) {
      const c = classifyCell((rows[r] as unknown[])[ci], { negativeIsCensored: false });
      if (c.kind !== 'number') {
        throw new UnparseableCellError(file, lines[r], header[ci], String((rows[r] as unknown[])[ci] ?? ''));
      }
      arr[r] = c.value;
    }
  }
  const wanted = options.fields ? new Set(options.fields.map((f) => f.toLowerCase())) : null;
  const columns: string[] = [];
  const values: Record<string, Float64Array> = {};
  const units: Record<string, string | null> = {};
  const censored: Record<string, number> = {};
  const missing: Record<string, number> = {};
  const attributes: Record<string, string[]> = {};
  header.forEach((h, ci) => {
    if (ci === xi || ci === yi || h === '') return;
    const { name, unit } = splitHeaderUnit(h);
    if (wanted && !wanted.has(name.toLowerCase()) && !wanted.has(h.toLowerCase())) return;
    const cells = rows.map((row) => (row as unknown[])[ci]);
    const kinds = cells.map((v) => classifyCell(v, { negativeIsCensored: options.negativeIsCensored }));
    const invalid = kinds.filter((k) => k.kind === 'invalid').length;
    const present = kinds.filter((k) => k.kind !== 'missing').length;
    if (present > 0 && invalid > present / 2 && !wanted) {
      attributes[h] = cells.map((v) => String(v ?? ''));
      return;
    }
    const out = new Float64Array(n);
    let nCens = 0;
    let nMiss = 0;
    let minPositive = Infinity;
    for (const k of kinds) if (k.kind === 'number' && k.value > 0 && k.value < minPositive) minPositive = k.value;
    kinds.forEach((k, r) => {
      switch (k.kind) {
        case 'number':
          out[r] = k.value;
          break;
        case 'missing':
          out[r] = NaN;
          nMiss++;
          break;
        case 'censored': {
          // "ND" without a number: the declared limit, else the smallest detected value stands in.
          const limit = k.limit ?? options.detectionLimits?.[name] ?? (Number.isFinite(minPositive) ? minPositive : NaN);
          if (!Number.isFinite(limit)) throw new UnparseableCellError(file, lines[r], h, String(cells[r]));
          out[r] = fraction * limit;
          nCens++;
          break;
        }
        case 'invalid':
          throw new UnparseableCellError(file, lines[r], h, String(cells[r]));
      }
    });
    columns.push(name);
    values[name] = out;
    units[name] = options.units?.[name] ?? options.units?.[h] ?? unit;
    censored[name] = nCens;
    missing[name] = nMiss;
  });
  if (columns.length === 0) {
    throw new EmptyInputError(file, 'no numeric element column besides the coordinates', 'Check the delimiter and the --fields list');
  }
  let crs: Crs | null = options.crs ?? null;
  if (options.targetCrs) {
    if (!options.crs) throw new InvalidOptionError(`${file}: declare the CRS of the table's coordinates before reprojecting it`);
    const t = makeTransform(options.crs, options.targetCrs);
    for (let i = 0; i < n; i++) {
      const [tx, ty] = t([x[i], y[i]]);
      x[i] = tx;
      y[i] = ty;
    }
    crs = options.targetCrs;
  }
  const seen = new Set<string>();
  let dup = 0;
  for (let i = 0; i < n; i++) {
    const key = `${x[i]},${y[i]}`;
    if (seen.has(key)) dup++;
    else seen.add(key);
  }
  return { file, crs, x, y, rowCount: n, columns, values, units, censored, missing, attributes, duplicateLocations: dup };
}
