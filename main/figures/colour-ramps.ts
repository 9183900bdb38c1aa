/**
 * Colour ramps for maps and legends. Anchors are sampled from matplotlib's perceptually uniform
 * colormaps (viridis, magma, cividis) at 9 evenly spaced points and from ColorBrewer's RdBu for
 * diverging maps (differences between models); intermediate colours are linearly interpolated
 * in sRGB, which is visually indistinguishable from the full 256-entry tables at legend scale.
 * This module has no Node or DOM dependency, so the renderer uses the same ramps as exports.
 */
export type RampName = 'viridis' | 'magma' | 'cividis' | 'rdbu' | 'greys' | 'hot';

type Rgb = readonly [number, number, number];

const ANCHORS: Readonly<Record<RampName, readonly Rgb[]>> = {
  viridis: [
    [68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
    [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37],
  ],
  magma: [
    [0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122],
    [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191],
  ],
  cividis: [
    [0, 32, 77], [18, 53, 112], [59, 73, 108], [87, 93, 109], [112, 113, 115],
    [138, 134, 120], [166, 157, 117], [196, 180, 107], [228, 206, 85], [255, 234, 70],
  ],
  rdbu: [
    [5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240],
    [247, 247, 247], [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31],
  ],
  greys: [[255, 255, 255], [0, 0, 0]],
  hot: [[10, 0, 0], [180, 0, 0], [255, 90, 0], [255, 210, 0], [255, 255, 255]],
};

export const RAMP_NAMES = Object.keys(ANCHORS) as RampName[];

/** Colour at t ∈ [0, 1] (clamped) as [r, g, b] 0–255. */
export function rampColour(name: RampName, t: number): [number, number, number] {
  const a = ANCHORS[name];
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (a.length - 1);
  const i = Math.min(a.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((k) => Math.round(a[i][k] + f * (a[i + 1][k] - a[i][k]))) as [number, number, number];
}

/** A 256-entry RGBA lookup table for fast raster colouring. */
export function rampLut(name: RampName): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const [r, g, b] = rampColour(name, i / 255);
    lut.set([r, g, b, 255], i * 4);
  }
  return lut;
}

export function cssColour(rgb: readonly number[]): string {
  return `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
}
