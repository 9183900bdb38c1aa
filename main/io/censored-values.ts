/**
 * Geochemical survey tables mark values below the detection limit in several ways: "<0.5",
 * "-0.5" (a negative number standing for "below 0.5"), or "ND"/"BDL" without a number. This
 * module classifies one cell; the table reader decides what to substitute.
 */
export type CellValue =
  | { kind: 'number'; value: number }
  | { kind: 'censored'; limit: number | null }
  | { kind: 'missing' }
  | { kind: 'invalid' };

const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null', '-', '--', '*', 'nr', 'not analysed', 'not analyzed', 'is']);
const BELOW_LIMIT_WORDS = new Set(['nd', 'n.d.', 'n.d', 'bdl', '<dl', '<ld', 'below dl', '<lod', 'lod', 'tr', 'trace']);

export interface CellOptions {
  /** Read negative numbers as "below |value|" (the common survey convention). Default true. */
  readonly negativeIsCensored?: boolean;
}

export function classifyCell(raw: unknown, options: CellOptions = {}): CellValue {
  if (raw === null || raw === undefined) return { kind: 'missing' };
  if (typeof raw === 'number') {
    if (Number.isNaN(raw)) return { kind: 'missing' };
    if (raw < 0 && (options.negativeIsCensored ?? true)) return { kind: 'censored', limit: -raw };
    return Number.isFinite(raw) ? { kind: 'number', value: raw } : { kind: 'invalid' };
  }
  const s = String(raw).trim();
  const lower = s.toLowerCase();
  if (MISSING.has(lower)) return { kind: 'missing' };
  if (BELOW_LIMIT_WORDS.has(lower)) return { kind: 'censored', limit: null };
  const lt = /^<\s*=?\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)$/.exec(s);
  if (lt) return { kind: 'censored', limit: Number(lt[1]) };
  // Accept a decimal comma only when it is the sole separator ("0,5"), as European exports do.
  const normalised = /^-?[0-9]+,[0-9]+$/.test(s) ? s.replace(',', '.') : s;
  if (/^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/.test(normalised)) {
    const v = Number(normalised);
    if (v < 0 && (options.negativeIsCensored ?? true)) return { kind: 'censored', limit: -v };
    return { kind: 'number', value: v };
  }
  return { kind: 'invalid' };
}

/** Units written into a header: "Au_ppb", "Au (ppb)", "Au[ppb]", "Cu ppm", "SiO2_%", "Fe2O3 wt%". */
export function splitHeaderUnit(header: string): { name: string; unit: string | null } {
  const h = header.trim();
  const m =
    /^(.+?)\s*[([]\s*(ppm|ppb|ppt|%|wt%|wt\.%|pct|g\/t|mg\/kg|µg\/kg|ug\/kg)\s*[)\]]$/i.exec(h) ??
    /^(.+?)[_\s-]+(ppm|ppb|ppt|pct|wt%|%|gpt|g\/t|mg\/kg|ugkg|ug\/kg)$/i.exec(h);
  if (!m) return { name: h, unit: null };
  const u = m[2].toLowerCase();
  const unit = u === 'pct' || u === 'wt%' || u === 'wt.%' ? '%' : u === 'gpt' ? 'g/t' : u === 'ugkg' ? 'ug/kg' : u;
  return { name: m[1].trim(), unit };
}
