import { InvalidOptionError } from '../errors.ts';

/**
 * Paper sizes for exported layouts. ISO 216 sizes in millimetres; US Letter is 8.5 × 11 in.
 * A page is described in three units: millimetres (what the user chose), PDF points (1/72 in,
 * the PDF page box) and CSS pixels (1/96 in, the unit the figure code draws in; the canvas is
 * scaled by dpi/96 so text and lines keep their physical size at any DPI).
 */
export const PAPER_SIZES_MM = {
  A4: [210, 297],
  A3: [297, 420],
  Letter: [215.9, 279.4],
} as const;

export type PaperName = keyof typeof PAPER_SIZES_MM;
export type Orientation = 'portrait' | 'landscape';
export const PAPER_NAMES = Object.keys(PAPER_SIZES_MM) as PaperName[];

export interface Page {
  readonly paper: PaperName;
  readonly orientation: Orientation;
  readonly widthMm: number;
  readonly heightMm: number;
  readonly widthPt: number;
  readonly heightPt: number;
  /** Size in CSS pixels (96 per inch). */
  readonly widthCss: number;
  readonly heightCss: number;
}

const MM_PER_INCH = 25.4;

export function pageOf(paper: string, orientation: string): Page {
  if (!(PAPER_NAMES as string[]).includes(paper)) {
    throw new InvalidOptionError(`paper "${paper}" is not one of ${PAPER_NAMES.join(', ')}`, { paper });
  }
  if (orientation !== 'portrait' && orientation !== 'landscape') {
    throw new InvalidOptionError(`orientation "${orientation}" must be portrait or landscape`, { orientation });
  }
  const [a, b] = PAPER_SIZES_MM[paper as PaperName];
  const [widthMm, heightMm] = orientation === 'portrait' ? [a, b] : [b, a];
  return {
    paper: paper as PaperName,
    orientation,
    widthMm,
    heightMm,
    widthPt: (widthMm / MM_PER_INCH) * 72,
    heightPt: (heightMm / MM_PER_INCH) * 72,
    widthCss: (widthMm / MM_PER_INCH) * 96,
    heightCss: (heightMm / MM_PER_INCH) * 96,
  };
}

/** Pixel size of a page rendered at `dpi` (what the PNG holds and the PDF embeds). */
export function pagePixels(page: Page, dpi: number): { width: number; height: number } {
  return { width: Math.round((page.widthMm / MM_PER_INCH) * dpi), height: Math.round((page.heightMm / MM_PER_INCH) * dpi) };
}

/** Export resolutions accepted: below 36 DPI nothing is legible, above 600 an A3 page exceeds 100 Mpixel. */
export const MIN_DPI = 36;
export const MAX_DPI = 600;

export function checkDpi(dpi: number): number {
  if (!Number.isFinite(dpi) || dpi < MIN_DPI || dpi > MAX_DPI) {
    throw new InvalidOptionError(`DPI ${dpi} is outside ${MIN_DPI}–${MAX_DPI}; 150 suits screens and drafts, 300 print`, { dpi });
  }
  return dpi;
}
