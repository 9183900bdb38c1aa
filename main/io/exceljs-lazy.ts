import { createRequire } from 'node:module';
import type ExcelJSModule from 'exceljs';

/**
 * exceljs, loaded on first use instead of when table.ts is imported: it is ~150 modules (≈ 0.4 s
 * of start-up, bench/startup.ts), and every command that reads a CSV, and `info` on any file,
 * imports table.ts. exceljs is CommonJS, so a synchronous require() keeps the call site
 * (`new ExcelJS.Workbook()`) as it was.
 */
export const ExcelJS = {
  get Workbook(): typeof ExcelJSModule.Workbook {
    return (createRequire(import.meta.url)('exceljs') as typeof ExcelJSModule).Workbook;
  },
};
