/**
 * The typed result of the layout workflow (main/workflows/layout.ts), as the app's contract
 * carries it (main/api/contract.ts JobResult.workflow). Plain data, free of Node and library
 * imports: the renderer's type check reads this file.
 */

/** What "layout" wrote: the page file, its format, paper and size. */
export interface LayoutWorkflowResult {
  readonly outputs: { readonly page: string };
  readonly format: 'pdf' | 'png';
  /** The paper (main/export/paper.ts Page): name, orientation, size in mm and in PDF points. */
  readonly page: { readonly paper: string; readonly orientation: 'portrait' | 'landscape'; readonly widthMm: number; readonly heightMm: number; readonly widthPt: number; readonly heightPt: number };
  /** The page in pixels at the layout's DPI (the PNG's size; the PDF's footer records the DPI). */
  readonly widthPx: number;
  readonly heightPx: number;
  readonly dpi: number;
  /** The band mapped and the title drawn. */
  readonly band: string;
  readonly title: string;
}
