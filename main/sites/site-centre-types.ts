/**
 * The types of sites as the app edits them (one centre per block) and of a written sites file.
 * Types only, with no imports: the contract, which the renderer type-checks in its web world,
 * imports them from here (writing them is main/sites/site-centres.ts).
 */

export interface SiteCentre {
  readonly id: string;
  readonly x: number;
  readonly y: number;
  /** 1 = deposit (positive), 0 = negative. */
  readonly label: 0 | 1;
  readonly source: 'deposit' | 'auto' | 'user';
}

export interface SitesWritten {
  readonly path: string;
  readonly positiveBlocks: number;
  readonly negativeBlocks: number;
  /** Site cells written (9 per unclipped 3×3 block). */
  readonly cells: number;
}
