import { writeDemoSurvey } from '../demo/demo-survey.ts';
import type { JobContext } from '../jobs/job.ts';
import { checkWorkflowPaths, defaultsOf, required } from './option-table.ts';
import { DEMO_DATA_OPTIONS, DEMO_DATA_PATHS, type DemoDataWorkflowOptions, type DemoDataWorkflowResult } from './demo-data-options.ts';

export { DEMO_DATA_OPTIONS, DEMO_DATA_PATHS, type DemoDataWorkflowOptions, type DemoDataWorkflowResult } from './demo-data-options.ts';

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as Partial<T>;
}

/** Writes the seeded synthetic regional survey (main/demo/demo-survey.ts) into `out`. */
export async function demoDataWorkflow(o: DemoDataWorkflowOptions, ctx: JobContext = {}): Promise<DemoDataWorkflowResult> {
  const out = required(o.out, 'out', 'demo-data');
  checkWorkflowPaths(DEMO_DATA_OPTIONS, DEMO_DATA_PATHS, o);
  // Every option at its table default when absent, as the CLI has always passed them.
  const v = { ...(defaultsOf(DEMO_DATA_OPTIONS) as Required<Omit<DemoDataWorkflowOptions, 'out'>>), ...definedOnly(o) };
  const seed = v.seed;
  const files = writeDemoSurvey(
    out,
    { seed, sampleCount: v.samples, depositCount: v.deposits, haloAlongM: v.haloAlong, haloAcrossM: v.haloAcross, faultControl: v.faultControl, noise: v.noise, decoyCount: v.decoys },
    ctx,
  );
  return { outputs: files, seed };
}

/** "samples   DIR/samples.csv", … (the lines the CLI has always printed). */
export function demoDataResultLines(r: DemoDataWorkflowResult): string[] {
  return Object.entries(r.outputs).map(([k, v]) => `${k.padEnd(9)} ${v}`);
}
