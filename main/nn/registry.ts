/**
 * The registered layer kinds (main/nn/layers/, one module each): adding a kind = one module here
 * plus the equality tests (docs/nn.md).
 */
import type { LayerKind } from './layer-kind.ts';
import { batchNormKind } from './layers/batch-norm.ts';
import { convKind } from './layers/conv.ts';
import { deformConvKind } from './layers/deform-conv.ts';
import { denseKind } from './layers/dense.ts';
import { identityKind } from './layers/identity.ts';
import { globalAveragePoolKind, maxPoolKind } from './layers/pooling.ts';
import { activationKind, reluKind } from './layers/relu.ts';

export const LAYER_KINDS: readonly LayerKind[] = [identityKind, convKind, deformConvKind, batchNormKind, reluKind, activationKind, maxPoolKind, globalAveragePoolKind, denseKind];

const byClass = new Map<string, LayerKind>(LAYER_KINDS.flatMap((k) => k.classNames.map((c) => [c, k] as const)));

/** The kind of a tfjs class name, or undefined when none is registered. */
export function layerKindOf(className: string): LayerKind | undefined {
  return byClass.get(className);
}
