import type { VectorLayerSpec } from '../../../main/api/contract.ts';
import type { ComparePoint } from './map/compare-maps.ts';
import type { Workbench } from './workbench.svelte.ts';

/**
 * The Compare view's clickable points: the training sites being digitized and the deposits
 * layers' points, in the project CRS. (Drawing of the site panels: explain-draw.ts.)
 */

export function comparePoints(wb: Workbench): ComparePoint[] {
  const out: ComparePoint[] = wb.sites.map((s) => ({ x: s.x, y: s.y, kind: s.label === 1 ? 'positive' : 'negative', label: s.id }));
  const deposits = (wb.doc?.layers ?? []).filter((l): l is VectorLayerSpec => l.kind === 'vector' && l.role === 'deposits' && l.visible);
  for (const l of deposits) {
    const features = (wb.vectors.get(l.id)?.geojson.features ?? []) as { geometry?: { type?: string; coordinates?: unknown }; properties?: Record<string, unknown> }[];
    features.forEach((f, i) => {
      const g = f.geometry;
      if (g?.type === 'Point' && Array.isArray(g.coordinates)) {
        const [x, y] = g.coordinates as number[];
        if (Number.isFinite(x) && Number.isFinite(y)) out.push({ x, y, kind: 'deposit', label: String(f.properties?.id ?? f.properties?.name ?? `${l.name} ${i + 1}`) });
      }
    });
  }
  return out;
}
