/**
 * The torchvision deform_conv2d fixtures of tests/fixtures/dcn/ (written by make_fixtures.py):
 * one JSON per case with the inputs, the forward output and every gradient, float64.
 * Shared by the tfjs op test and the ONNX training-graph test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const DCN_FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'dcn');

export interface TorchvisionCase {
  name: string;
  B: number; H: number; W: number; Cin: number; Cout: number; KH: number; KW: number; Ho: number; Wo: number;
  stride: [number, number]; padding: [number, number]; dilation: [number, number];
  offsetGroups: number; useMask: boolean; useBias: boolean;
  x: number[]; offset: number[]; weight: number[]; bias: number[] | null; mask: number[] | null; dy: number[];
  out: number[]; gradX: number[]; gradOffset: number[]; gradMask: number[] | null; gradWeight: number[]; gradBias: number[] | null;
}

/** Every fixture case, sorted by file name. */
export function torchvisionCases(): TorchvisionCase[] {
  return readdirSync(DCN_FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(DCN_FIXTURES, f), 'utf8')) as TorchvisionCase);
}
