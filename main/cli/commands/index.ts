import type { CommandEntry } from '../command.ts';
import { COMMANDS } from '../../commands/registry.ts';

/**
 * Every `geoanomaly` subcommand, in the order `--help` lists them: the shared registry
 * (main/commands/registry.ts, where a new command gets its one line) plus `serve`, which starts
 * the app's browser host and so belongs to the CLI alone (main/api must not import it back).
 */
export const commands: readonly CommandEntry[] = [
  ...COMMANDS,
  { name: 'serve', summary: 'run the workbench in a web browser (local only, token-protected)', load: async () => (await import('./serve.ts')).serveCommand },
];
