// The command types and argument helpers live in main/commands/ (below both the CLI and the
// app's API, which run the same commands); command modules keep importing them from here.
export * from '../commands/command.ts';
