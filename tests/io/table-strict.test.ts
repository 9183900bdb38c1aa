import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RaggedRowError, readSampleTable, readTableCells } from '../../main/io/table.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { EmptyInputError } from '../../main/errors.ts';
import { infoCommand } from '../../main/cli/commands/info.ts';
import { runCommand } from '../helpers/run-command.ts';
import { tempDir } from '../helpers/paths.ts';

/**
 * Strict CSV: a row with more or fewer fields than its header is a named error giving the
 * file's 1-based line, checked against Python's csv module (Debian /usr/bin/python3), whose
 * reader counts physical lines (quoted values spanning lines, blank lines) independently.
 */
const utm = crsFromEpsg(32645);

/** Python csv: start line of the first row whose field count differs from the header's, and both counts. */
function pythonRagged(file: string): { line: number; fields: number; header: number } {
  const py = [
    'import csv, json, sys',
    'f = open(sys.argv[1], newline="")',
    'r = csv.reader(f)',
    'header = next(r); prev = r.line_num',
    'for row in r:',
    '    start = prev + 1; prev = r.line_num',
    '    if not row: continue',
    '    if len(row) != len(header): print(json.dumps({"line": start, "fields": len(row), "header": len(header)})); break',
  ].join('\n');
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, file], { encoding: 'utf8' })) as { line: number; fields: number; header: number };
}

describe('strict CSV rows', () => {
  const cases: [string, string][] = [
    ['one field too many', 'x,y,Au\n1,2,0.5\n3,4,0.7,9\n5,6,1\n'],
    ['one field too few, after a blank line and a quoted value spanning two lines', 'id,x,y,Au\na,1,2,0.5\n\n"b\nsecond line",3,4,0.7\nc,5,6\n'],
    ['CRLF line ends, a ragged row at the end', 'x,y,Au\r\n1,2,0.5\r\n3,4,0.7\r\n\r\n5,6\r\n'],
  ];
  for (const [what, text] of cases) {
    it(`${what}: RaggedRowError naming the file and the line Python's csv module gives`, async () => {
      const file = join(tempDir(), 'samples.csv');
      writeFileSync(file, text);
      const ref = pythonRagged(file);
      const e = await readSampleTable(file, { x: 'x', y: 'y', crs: utm }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RaggedRowError);
      const r = e as RaggedRowError;
      expect(r.line).toBe(ref.line);
      expect(r.fields).toBe(ref.fields);
      expect(r.headerFields).toBe(ref.header);
      expect(r.message).toContain(`${file}: line ${ref.line} has ${ref.fields} field(s), but the header (line 1) has ${ref.header}`);
    });
  }

  it('an unparseable cell after blank lines and a two-line quoted value names the file\'s line (Python csv: 6)', async () => {
    const file = join(tempDir(), 'cells.csv');
    writeFileSync(file, 'id,x,y,Au\n"a\nb",1,2,0.5\n\n\nc,3,4,12..5\n');
    const e = await readSampleTable(file, { x: 'x', y: 'y', crs: utm }).catch((x: unknown) => x);
    expect((e as Error).message).toContain(`${file}: row 6, column "Au" holds "12..5"`);
  });

  it('a consistent table with quoted delimiters and blank lines still reads', async () => {
    const file = join(tempDir(), 'ok.csv');
    writeFileSync(file, 'id,x,y,Au\n"a,1",1,2,0.5\n\n"b\nc",3,4,0.7\n');
    const t = await readTableCells(file);
    expect(t.rows).toEqual([['a,1', '1', '2', '0.5'], ['b\nc', '3', '4', '0.7']]);
  });
});

describe('empty tables (issue 19)', () => {
  for (const [what, text] of [['0 bytes', ''], ['blank lines only', '\n \n'], ['a header only', 'x,y,Au\n']] as const) {
    it(`${what}: EmptyInputError saying the file is empty (not "Unable to auto-detect delimiting character")`, async () => {
      const file = join(tempDir(), 'empty.csv');
      writeFileSync(file, text);
      const e = await readSampleTable(file, { x: 'x', y: 'y', crs: utm }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(EmptyInputError);
      expect((e as Error).message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the file is empty`));
      expect((e as Error).message).not.toMatch(/auto-detect/);
      const i = await runCommand(infoCommand, [file]).catch((x: unknown) => x);
      expect(i).toBeInstanceOf(EmptyInputError);
    });
  }
});
