import type { Command } from '../command.ts';
import { cliOptions, optionsFromFlags } from '../../workflows/option-table.ts';
import { RPCA_OPTIONS, RPCA_PATHS, rpcaResultLines, rpcaWorkflow } from '../../workflows/rpca.ts';

/** `geoanomaly rpca`: flags → RpcaWorkflowOptions → rpcaWorkflow (main/workflows/rpca.ts) → printed lines. */
export const rpcaCommand: Command = {
  name: 'rpca',
  summary: 'robust PCA (DetMCD) of an element stack: PC score maps and loadings',
  usage: '--stack STACK.tif|DIR --out DIR [--transform log10|clr] [--alpha A] [--components K]',
  paths: RPCA_PATHS,
  options: cliOptions(RPCA_OPTIONS),
  details:
    'Cells with nodata or a value ≤ 0 in any band are left out (nodata in the outputs) and counted in loadings.json.\n' +
    'loadings.json holds bands, centre, robust covariance, eigenvalues, explained variance, loadings (band × PC),\n' +
    'MCD details and PC1/PC2 of a sample of cells for the biplot.\n' +
    'Example: geoanomaly rpca --stack ../shared/data/tianshan-gkdcn/elements --transform clr --out rpca',
  async run(args, io) {
    const result = await rpcaWorkflow(optionsFromFlags(RPCA_OPTIONS, args.values, 'rpca'), { signal: io.signal, progress: io.progress, log: io.err });
    for (const line of rpcaResultLines(result)) io.out(line);
    return 0;
  },
};
