/**
 * `--queue-batch` as an option row, shared by the four workflows that run units on the queue
 * (krige, train, predict, xrf). Type-level only, as the option tables (the renderer's type check
 * may read this file); main/queue/batch-option.ts parses the value.
 */
export function queueBatchRow<D extends string>(units: string, fallback: D, why: string) {
  return {
    flag: 'queue-batch',
    kind: 'string',
    description: `with --queue: ${units} per queue job, a number or auto (time the first units alone, then pack the rest into jobs of about 1 s, shrinking towards the end); ${why}`,
    valueName: 'N|auto',
    default: fallback,
  } as const;
}
