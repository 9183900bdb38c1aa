import { commands } from './commands/index.ts';
import { findCommand, formatHelp, parseCommandArgs, type CliIo } from './command.ts';
import { serializeError, CancelledError } from '../errors.ts';
import { packageRootUrl } from '../util/package-root.ts';

function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'geoanomaly — GeoAnomaly Workbench command line',
    '',
    'Usage: geoanomaly <command> [options]     (geoanomaly <command> --help for details)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`),
  ].join('\n');
}

function makeIo(signal: AbortSignal): CliIo {
  const tty = process.stderr.isTTY;
  let last = 0;
  return {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    progress: (f, m) => {
      const now = Date.now();
      if (f < 1 && now - last < 250) return;
      last = now;
      const line = `[${(f * 100).toFixed(0).padStart(3)}%] ${m}`;
      if (tty) process.stderr.write(`\r${line.padEnd(78)}${f >= 1 ? '\n' : ''}`);
      else process.stderr.write(line + '\n');
    },
    signal,
  };
}

/** Runs the CLI; returns the exit code (0 ok, 1 failure, 2 usage error, 130 cancelled). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(topHelp() + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('package.json', packageRootUrl()), 'utf8')) as { version: string };
    process.stdout.write(pkg.version + '\n');
    return 0;
  }
  const entry = findCommand(commands, name);
  if (!entry) {
    process.stderr.write(`geoanomaly: unknown command "${name}"\n\n${topHelp()}\n`);
    return 2;
  }
  const ac = new AbortController();
  const onSig = (): void => ac.abort();
  process.once('SIGINT', onSig);
  try {
    // Only now is the command's module (and whatever it needs: TensorFlow.js, ONNX Runtime…) imported.
    const cmd = await entry.load();
    const args = parseCommandArgs(cmd, rest);
    if (args.values.help) {
      process.stdout.write(formatHelp(cmd) + '\n');
      return 0;
    }
    return await cmd.run(args, makeIo(ac.signal));
  } catch (e) {
    if (e instanceof CancelledError) {
      process.stderr.write(`geoanomaly ${name}: cancelled\n`);
      return 130;
    }
    const s = serializeError(e);
    process.stderr.write(`geoanomaly ${name}: ${s.name}: ${s.message}\n`);
    if (process.env.GEOANOMALY_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return s.name === 'InvalidOptionError' ? 2 : 1;
  } finally {
    process.off('SIGINT', onSig);
  }
}
