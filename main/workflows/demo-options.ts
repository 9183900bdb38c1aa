import type { OptionsOf, WorkflowPaths } from './option-table.ts';
import type { WorkflowMetricName } from './workflow-results.ts';

/*
 * The options of the "demo" workflow, defined once: the CLI's flags and `--help`
 * (main/cli/commands/demo.ts) and main/workflows/demo.ts read this table. Type imports only.
 */
export const DEMO_OPTIONS = {
  out: { flag: 'out', kind: 'string', description: 'output folder', valueName: 'DIR', default: 'demo-run' },
  seed: { flag: 'seed', kind: 'number', description: 'seed of the survey, sites, folds and training', valueName: 'N', default: 7 },
  epochs: { flag: 'epochs', kind: 'number', description: 'maximum training epochs per fit', valueName: 'N', default: 12 },
  folds: { flag: 'folds', kind: 'number', description: 'cross-validation folds', valueName: 'K', default: 3 },
  repeats: { flag: 'repeats', kind: 'number', description: 'cross-validation repeats', valueName: 'R', default: 1 },
  cell: { flag: 'cell', kind: 'number', description: 'grid cell size in metres', valueName: 'M', default: 1000 },
  backend: { flag: 'backend', kind: 'string', description: 'auto | wasm | cpu | tensorflow', valueName: 'NAME', default: 'auto' },
} as const;

export type DemoWorkflowOptions = OptionsOf<typeof DEMO_OPTIONS>;

export const DEMO_PATHS: WorkflowPaths = { outputs: { out: 'dir' } };

/** The four networks the demo trains, maps and evaluates. */
export const DEMO_MODELS = ['cnn', 'dcn', 'gk-cnn', 'gk-dcn'] as const;

/** What "demo" wrote and measured. */
export interface DemoWorkflowResult {
  readonly outputs: {
    readonly dir: string;
    readonly summary: string;
    readonly stack: string;
    readonly powerLaw: string;
    readonly sites: string;
    readonly runDir: string;
    readonly probability: string;
    readonly figure: string;
    readonly explain: string;
    /** Model → its evaluate JSON. */
    readonly evaluations: Readonly<Record<string, string>>;
  };
  readonly seed: number;
  /** The fitted fault law and the generator's true exponent. */
  readonly powerLaw: { readonly N: number; readonly k: number; readonly r2: number; readonly trueK: number };
  /** Model → grouped-CV mean and sd of the seven metrics (metrics.json). */
  readonly cv: Readonly<Record<string, { readonly mean: Readonly<Record<WorkflowMetricName, number>>; readonly sd: Readonly<Record<WorkflowMetricName, number>> }>>;
  /** Model → the map's ROC AUC and success-rate AUC at the held-out deposits (training-site cells excluded). */
  readonly heldOut: Readonly<Record<string, { readonly auc: number; readonly successRateAuc: number }>>;
  readonly heldOutDeposits: number;
  readonly minutes: number;
  /** The summary.md text (the CLI prints it). */
  readonly summary: string;
}
