/**
 * The prediction engine of a run: 'tfjs' (the run's LayersModels on the tfjs backend) or 'onnx'
 * (the same models exported to ONNX and run by onnxruntime-node's CPU kernels); 'auto' picks
 * onnx when onnxruntime-node loads, else tfjs. See docs/prediction.md for why and the numbers.
 */
import { InvalidOptionError } from '../errors.ts';
import { defaultOrtLoader, loadOrt, OnnxRuntimeUnavailableError, ortVersion, type OrtLoader, type OrtModule } from './onnx-runtime.ts';

export type EnginePreference = 'auto' | 'tfjs' | 'onnx';
export const ENGINES: readonly EnginePreference[] = ['auto', 'tfjs', 'onnx'];
/** The one default engine of the library, the CLI and the app (issue 17 §2): onnx where onnxruntime-node loads. */
export const DEFAULT_ENGINE: EnginePreference = 'auto';

export interface EngineChoice {
  readonly name: 'tfjs' | 'onnx';
  /** One line for logs and output metadata: what runs, and why for 'auto'. */
  readonly detail: string;
  /** The loaded runtime (engine 'onnx'). */
  readonly ort: OrtModule | null;
}

export function checkEngine(engine: string | undefined): EnginePreference {
  const e = engine ?? DEFAULT_ENGINE;
  if (!(ENGINES as readonly string[]).includes(e)) throw new InvalidOptionError(`engine must be one of ${ENGINES.join(', ')}; found "${e}"`, { engine: e });
  return e as EnginePreference;
}

/**
 * Resolves 'auto' | 'tfjs' | 'onnx' to the engine that runs. 'onnx' without onnxruntime-node
 * throws OnnxRuntimeUnavailableError (how to install it is in the message); 'auto' then falls back
 * to tfjs and says so in `detail`.
 */
export async function resolveEngine(preference: EnginePreference = DEFAULT_ENGINE, loader: OrtLoader = defaultOrtLoader): Promise<EngineChoice> {
  const pref = checkEngine(preference);
  if (pref === 'tfjs') return { name: 'tfjs', detail: 'tfjs (requested)', ort: null };
  if (pref === 'onnx') {
    const ort = await loadOrt(loader);
    return { name: 'onnx', detail: `onnx (onnxruntime-node ${ortVersion(ort)}, CPU; requested)`, ort };
  }
  try {
    const ort = await loadOrt(loader);
    return { name: 'onnx', detail: `onnx (onnxruntime-node ${ortVersion(ort)}, CPU; auto)`, ort };
  } catch (e) {
    if (!(e instanceof OnnxRuntimeUnavailableError)) throw e;
    return { name: 'tfjs', detail: `tfjs (auto: onnxruntime-node could not be loaded: ${String(e.details.cause)})`, ort: null };
  }
}

