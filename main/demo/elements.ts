/**
 * The 39 elements of the demo survey (the same suite as the Tianshan case study), their units,
 * typical median background, log-spread, detection limit, and loadings on the geological
 * factors that make elements co-vary (mafic, felsic, carbonate, hydrothermal) plus their
 * response in ore halos. Values are plausible for stream-sediment surveys, not a calibration.
 */
export interface DemoElement {
  readonly name: string;
  readonly unit: 'ppm' | 'ppb' | '%';
  readonly median: number;
  readonly logSd: number;
  readonly detectionLimit: number;
  /** Loadings on [mafic, felsic, carbonate, hydrothermal] latent fields. */
  readonly loadings: readonly [number, number, number, number];
  /** Log-space amplitude of the ore halo (0 = unaffected). */
  readonly halo: number;
}

const E = (
  name: string,
  unit: DemoElement['unit'],
  median: number,
  logSd: number,
  detectionLimit: number,
  loadings: [number, number, number, number],
  halo = 0,
): DemoElement => ({ name, unit, median, logSd, detectionLimit, loadings, halo });

export const DEMO_ELEMENTS: readonly DemoElement[] = [
  E('Ag', 'ppb', 80, 0.5, 20, [0, 0.1, 0, 0.6], 1.6),
  E('Al2O3', '%', 13, 0.12, 0.05, [0.2, 0.6, -0.3, 0]),
  E('As', 'ppm', 12, 0.7, 0.5, [0, 0, 0, 0.7], 2.0),
  E('Au', 'ppb', 1.5, 0.8, 0.3, [0, 0, 0, 0.6], 2.6),
  E('B', 'ppm', 40, 0.4, 1, [0, 0.3, 0, 0.3], 0.5),
  E('Ba', 'ppm', 450, 0.35, 10, [0, 0.6, 0, 0.2]),
  E('Be', 'ppm', 2, 0.3, 0.1, [0, 0.7, 0, 0]),
  E('Bi', 'ppm', 0.3, 0.6, 0.05, [0, 0.2, 0, 0.6], 1.4),
  E('CaO', '%', 4, 0.6, 0.05, [0.2, -0.3, 0.8, 0]),
  E('Cd', 'ppb', 150, 0.5, 20, [0, 0, 0.3, 0.5], 0.8),
  E('Co', 'ppm', 12, 0.35, 0.5, [0.8, -0.2, 0, 0]),
  E('Cr', 'ppm', 60, 0.45, 2, [0.8, -0.3, 0, 0]),
  E('Cu', 'ppm', 25, 0.5, 1, [0.4, 0, 0, 0.5], 1.5),
  E('F', 'ppm', 500, 0.3, 50, [0, 0.5, 0.2, 0.1]),
  E('Fe2O3', '%', 4.5, 0.25, 0.05, [0.7, -0.1, 0, 0.2], 0.3),
  E('Hg', 'ppb', 30, 0.6, 5, [0, 0, 0, 0.6], 1.0),
  E('K2O', '%', 2.4, 0.25, 0.05, [-0.2, 0.7, -0.2, 0.1], 0.2),
  E('La', 'ppm', 35, 0.25, 1, [0, 0.6, 0, 0]),
  E('Li', 'ppm', 30, 0.3, 1, [0, 0.5, 0, 0]),
  E('MgO', '%', 2, 0.45, 0.05, [0.8, -0.3, 0.3, 0]),
  E('Mn', 'ppm', 700, 0.3, 10, [0.5, 0, 0.4, 0]),
  E('Mo', 'ppm', 0.8, 0.5, 0.1, [0, 0.2, 0, 0.5], 1.2),
  E('Na2O', '%', 1.8, 0.3, 0.05, [0, 0.6, -0.2, -0.2]),
  E('Nb', 'ppm', 13, 0.25, 1, [0, 0.6, 0, 0]),
  E('Ni', 'ppm', 28, 0.45, 1, [0.8, -0.3, 0, 0]),
  E('P', 'ppm', 650, 0.3, 20, [0.4, 0.2, 0.2, 0]),
  E('Pb', 'ppm', 22, 0.4, 1, [0, 0.3, 0, 0.5], 1.1),
  E('Sb', 'ppm', 0.9, 0.6, 0.1, [0, 0, 0, 0.7], 1.8),
  E('SiO2', '%', 62, 0.08, 0.1, [-0.4, 0.5, -0.5, 0.1], 0.1),
  E('Sn', 'ppm', 2.8, 0.35, 0.2, [0, 0.5, 0, 0.2], 0.4),
  E('Sr', 'ppm', 250, 0.45, 5, [0, 0.2, 0.7, 0]),
  E('Th', 'ppm', 11, 0.3, 0.5, [0, 0.7, 0, 0]),
  E('Ti', 'ppm', 3800, 0.3, 50, [0.7, 0.1, 0, 0]),
  E('U', 'ppm', 2.5, 0.35, 0.2, [0, 0.6, 0, 0.1]),
  E('V', 'ppm', 90, 0.35, 2, [0.8, 0, 0, 0]),
  E('W', 'ppm', 1.8, 0.5, 0.2, [0, 0.3, 0, 0.5], 1.0),
  E('Y', 'ppm', 24, 0.25, 0.5, [0.1, 0.5, 0.1, 0]),
  E('Zn', 'ppm', 75, 0.35, 2, [0.4, 0, 0.1, 0.4], 0.9),
  E('Zr', 'ppm', 230, 0.3, 5, [-0.1, 0.6, 0, 0]),
];
