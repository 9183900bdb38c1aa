import type { PDFFont } from 'pdf-lib';

/**
 * Text for pdf-lib's standard fonts. They cover WinAnsi only (no font file is embedded: the
 * installed dependencies hold no fontkit to subset a TTF), so the few other symbols our labels
 * use are spelled out and anything else becomes '?' rather than failing the whole export.
 */
export function pdfSafe(text: string, font: PDFFont): string {
  const spelled = text
    .replace(/λ/g, 'lambda')
    .replace(/ρ/g, 'rho')
    .replace(/≤/g, '<=')
    .replace(/≥/g, '>=')
    .replace(/→/g, '->')
    .replace(/–/g, '-')
    .replace(/−/g, '-')
    .replace(/Δ/g, 'Delta ')
    .replace(/²/g, '2');
  const ok = new Set(font.getCharacterSet());
  return [...spelled].map((ch) => (ok.has(ch.codePointAt(0) ?? 0) ? ch : '?')).join('');
}
