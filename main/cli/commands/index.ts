import type { Command } from '../command.ts';
import { infoCommand } from './info.ts';
import { krigeCommand } from './krige.ts';
import { demoDataCommand } from './demo-data.ts';
import { serveCommand } from './serve.ts';
import { faultsCommand } from './faults.ts';
import { sitesCommand } from './sites.ts';
import { evaluateCommand } from './evaluate.ts';
import { rpcaCommand } from './rpca.ts';
import { trainCommand } from './train.ts';
import { predictCommand } from './predict.ts';
import { explainCommand } from './explain.ts';
import { demoCommand } from './demo.ts';
import { xrfCommand } from './xrf.ts';
import { layoutCommand } from './layout.ts';
import { reportCommand } from './report.ts';

/** Every `geoanomaly` subcommand, in the order `--help` lists them. One entry point, one list. */
export const commands: readonly Command[] = [
  infoCommand,
  krigeCommand,
  demoDataCommand,
  serveCommand,
  faultsCommand,
  sitesCommand,
  evaluateCommand,
  rpcaCommand,
  trainCommand,
  predictCommand,
  explainCommand,
  demoCommand,
  xrfCommand,
  layoutCommand,
  reportCommand,
];
