import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync, mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { GridSpec } from '../grid/grid-spec.ts';
import type { RasterStack } from '../grid/raster.ts';
import { InvalidOptionError } from '../errors.ts';
import { removeStaleTemps, tempPathFor } from '../util/stale-temp.ts';
import { geoKeysForCrs } from '../grid/crs-geokeys.ts';

/**
 * GeoTIFF writer for Float32 stacks.
 *
 * Hand-written rather than geotiff.js's `writeArrayBuffer` because that writer holds the whole
 * image as one pixel-interleaved strip in memory (a 2,000 × 2,000 × 39 stack is 624 MB in one
 * JS array), writes no band descriptions, and declares ExtraSamples wrongly for >1 band. Here:
 * band-sequential planes (PlanarConfiguration 2) in strips, so rows of any band can be written
 * as they are computed (streamed prediction), with GDAL's band descriptions (GDAL_METADATA),
 * nodata (GDAL_NODATA), the geotransform and the CRS's GeoKeys (main/grid/crs-geokeys.ts: the EPSG code, or
 * user-defined keys for a custom CRS). The file is written to a temporary
 * sibling and renamed on close, so a failed or cancelled job leaves no partial output.
 */

const ROWS_PER_STRIP_TARGET_BYTES = 256 * 1024;

export interface GeoTiffWriteOptions {
  /** Value written for NaN cells and declared as GDAL nodata. Default −9999. */
  readonly nodata?: number;
  /** Free-text dataset-level metadata items (GDAL_METADATA without a sample). */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * Unit of each band ("ppm"), in band order; null/undefined = none. Written as GDAL's band unit
   * type (`<Item name="UNITTYPE" sample="i" role="unittype">`, what GDAL's SetUnitType writes and
   * QGIS shows), so a kriged stack carries its units into every reader (issue 18: a stack imported
   * by hand was named without them).
   */
  readonly bandUnits?: readonly (string | null | undefined)[];
}

interface Entry {
  tag: number;
  type: 3 | 4 | 2 | 12; // SHORT, LONG, ASCII, DOUBLE
  values: number[] | string;
}

const TYPE_SIZE: Record<number, number> = { 2: 1, 3: 2, 4: 4, 12: 8 };

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function gdalMetadataXml(bandNames: readonly string[], metadata: Readonly<Record<string, string>>, units: readonly (string | null | undefined)[] = []): string {
  const items = Object.entries(metadata).map(([k, v]) => `  <Item name="${xmlEscape(k)}">${xmlEscape(v)}</Item>`);
  bandNames.forEach((n, i) => {
    const u = units[i]?.trim();
    if (u) items.push(`  <Item name="UNITTYPE" sample="${i}" role="unittype">${xmlEscape(u)}</Item>`);
    items.push(`  <Item name="DESCRIPTION" sample="${i}" role="description">${xmlEscape(n)}</Item>`);
  });
  return `<GDALMetadata>\n${items.join('\n')}\n</GDALMetadata>`;
}

export class GeoTiffWriter {
  private fd: number;
  private readonly tmp: string;
  private readonly rowsPerStrip: number;
  private readonly stripsPerBand: number;
  private readonly dataStart = 8;
  private readonly nodata: number;
  private closed = false;

  constructor(
    readonly path: string,
    readonly grid: GridSpec,
    readonly bandNames: readonly string[],
    private readonly options: GeoTiffWriteOptions = {},
  ) {
    if (bandNames.length === 0) throw new InvalidOptionError(`cannot write ${path}: no bands`);
    if (!Number.isInteger(grid.rows) || !Number.isInteger(grid.cols) || grid.rows < 1 || grid.cols < 1) {
      throw new InvalidOptionError(`cannot write ${path}: invalid grid size ${grid.rows}×${grid.cols}`);
    }
    const bytes = grid.rows * grid.cols * 4 * bandNames.length;
    if (bytes > 3.9e9) {
      throw new InvalidOptionError(`cannot write ${path}: ${(bytes / 1e9).toFixed(1)} GB exceeds classic TIFF's 4 GB; write fewer bands per file`);
    }
    this.nodata = options.nodata ?? -9999;
    this.rowsPerStrip = Math.max(1, Math.min(grid.rows, Math.floor(ROWS_PER_STRIP_TARGET_BYTES / (grid.cols * 4))));
    this.stripsPerBand = Math.ceil(grid.rows / this.rowsPerStrip);
    mkdirSync(dirname(path), { recursive: true });
    removeStaleTemps(dirname(path), basename(path));
    this.tmp = tempPathFor(path);
    this.fd = openSync(this.tmp, 'w');
  }

  private planeOffset(band: number, row: number): number {
    return this.dataStart + (band * this.grid.rows + row) * this.grid.cols * 4;
  }

  /** Writes consecutive full rows of one band, starting at rowStart; NaN becomes nodata. */
  writeRows(band: number, rowStart: number, values: Float32Array): void {
    if (this.closed) throw new InvalidOptionError(`${this.path} is already closed`);
    const cols = this.grid.cols;
    if (values.length % cols !== 0 || rowStart < 0 || rowStart + values.length / cols > this.grid.rows || band < 0 || band >= this.bandNames.length) {
      throw new InvalidOptionError(`write outside ${this.path}: band ${band}, rows ${rowStart}+${values.length / cols}`);
    }
    const out = new Float32Array(values.length);
    const nd = this.nodata;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      out[i] = Number.isNaN(v) ? nd : v;
    }
    const bytes = new Uint8Array(out.buffer);
    let off = 0;
    const pos = this.planeOffset(band, rowStart);
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off, pos + off);
  }

  writeBand(band: number, values: Float32Array): void {
    this.writeRows(band, 0, values);
  }

  /** Writes the directory, fsyncs and renames the file into place. */
  close(): void {
    if (this.closed) return;
    const g = this.grid;
    const n = this.bandNames.length;
    const stripOffsets: number[] = [];
    const stripCounts: number[] = [];
    for (let b = 0; b < n; b++) {
      for (let s = 0; s < this.stripsPerBand; s++) {
        const r0 = s * this.rowsPerStrip;
        const rows = Math.min(this.rowsPerStrip, g.rows - r0);
        stripOffsets.push(this.planeOffset(b, r0));
        stripCounts.push(rows * g.cols * 4);
      }
    }
    const gk = geoKeysForCrs(g.crs);
    const entries: Entry[] = [
      { tag: 256, type: 4, values: [g.cols] },
      { tag: 257, type: 4, values: [g.rows] },
      { tag: 258, type: 3, values: new Array(n).fill(32) },
      { tag: 259, type: 3, values: [1] },
      { tag: 262, type: 3, values: [1] },
      { tag: 273, type: 4, values: stripOffsets },
      { tag: 277, type: 3, values: [n] },
      { tag: 278, type: 4, values: [this.rowsPerStrip] },
      { tag: 279, type: 4, values: stripCounts },
      { tag: 284, type: 3, values: [n > 1 ? 2 : 1] },
      ...(n > 1 ? [{ tag: 338, type: 3 as const, values: new Array(n - 1).fill(0) }] : []),
      { tag: 339, type: 3, values: new Array(n).fill(3) },
      { tag: 33550, type: 12, values: [g.cellSizeX, g.cellSizeY, 0] },
      { tag: 33922, type: 12, values: [0, 0, 0, g.originX, g.originY, 0] },
      { tag: 34735, type: 3, values: gk.dir },
      ...(gk.doubles.length > 0 ? [{ tag: 34736, type: 12 as const, values: gk.doubles }] : []),
      { tag: 34737, type: 2, values: gk.ascii },
      { tag: 42112, type: 2, values: gdalMetadataXml(this.bandNames, this.options.metadata ?? {}, this.options.bandUnits) },
      { tag: 42113, type: 2, values: String(this.nodata) },
    ];
    const ifdOffset = this.dataStart + g.rows * g.cols * 4 * n;
    const ifdSize = 2 + entries.length * 12 + 4;
    let extraOffset = ifdOffset + ifdSize;
    const extras: Uint8Array[] = [];
    const ifd = Buffer.alloc(ifdSize);
    ifd.writeUInt16LE(entries.length, 0);
    entries.forEach((e, i) => {
      const p = 2 + i * 12;
      // UTF-8, as GDAL writes and reads ASCII tags and geotiff.js decodes them: Latin-1 turned a
      // unit such as "ppm²" or "µg/kg" into U+FFFD for every reader.
      const raw = typeof e.values === 'string' ? Buffer.from(e.values + '\0', 'utf8') : null;
      const count = raw ? raw.length : (e.values as number[]).length;
      const size = count * TYPE_SIZE[e.type];
      const data = Buffer.alloc(size);
      if (raw) raw.copy(data);
      else {
        (e.values as number[]).forEach((v, j) => {
          if (e.type === 3) data.writeUInt16LE(v, j * 2);
          else if (e.type === 4) data.writeUInt32LE(v, j * 4);
          else data.writeDoubleLE(v, j * 8);
        });
      }
      ifd.writeUInt16LE(e.tag, p);
      ifd.writeUInt16LE(e.type, p + 2);
      ifd.writeUInt32LE(count, p + 4);
      if (size <= 4) data.copy(ifd, p + 8);
      else {
        ifd.writeUInt32LE(extraOffset, p + 8);
        const padded = Buffer.alloc(size + (size % 2));
        data.copy(padded);
        extras.push(padded);
        extraOffset += padded.length;
      }
    });
    ifd.writeUInt32LE(0, ifdSize - 4);
    const header = Buffer.alloc(8);
    header.write('II', 0, 'latin1');
    header.writeUInt16LE(42, 2);
    header.writeUInt32LE(ifdOffset, 4);
    writeSync(this.fd, header, 0, 8, 0);
    let pos = ifdOffset;
    for (const chunk of [ifd, ...extras]) {
      writeSync(this.fd, chunk, 0, chunk.length, pos);
      pos += chunk.length;
    }
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.closed = true;
    renameSync(this.tmp, this.path);
  }

  /** Abandons the file: nothing is left at the target path. */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      closeSync(this.fd);
    } finally {
      rmSync(this.tmp, { force: true });
    }
  }
}

/** Writes a whole stack as one multi-band Float32 GeoTIFF. */
export function writeGeoTiff(path: string, stack: Pick<RasterStack, 'grid' | 'bandNames' | 'bands'>, options: GeoTiffWriteOptions = {}): void {
  const w = new GeoTiffWriter(path, stack.grid, stack.bandNames, options);
  try {
    stack.bands.forEach((b, i) => w.writeBand(i, b));
    w.close();
  } catch (e) {
    w.abort();
    throw e;
  }
}
