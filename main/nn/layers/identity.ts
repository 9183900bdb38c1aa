/** Layers that are the identity at inference: the input layer and every dropout. */
import type { LayerKind } from '../layer-kind.ts';

export const identityKind: LayerKind = {
  classNames: ['InputLayer', 'GeoAnomalySeededDropout', 'Dropout', 'SpatialDropout2D'],
  inferOnnx: (_ctx, x, shape) => ({ x, shape }),
};
