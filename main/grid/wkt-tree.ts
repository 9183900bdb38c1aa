/**
 * A minimal WKT (1 and 2) syntax tree: KEYWORD[arg, arg, …] where an argument is a quoted
 * string, a number, a bare word (EAST, Cartesian) or a nested node.
 *
 * Hand-written because proj4js's wkt-parser returns a flattened, lower-cased object that
 * drops the node order and the AUTHORITY/ID placement we need to tell the CRS's own EPSG code
 * from its base CRS's, and it has no writer; this is the 60-line grammar of ISO 19162 §6.
 */
export type WktValue = string | number | WktNode | { readonly word: string };

export interface WktNode {
  readonly keyword: string;
  readonly args: WktValue[];
}

export class WktSyntaxError extends Error {}

export function parseWktTree(text: string): WktNode {
  let i = 0;
  const s = text.trim();
  const ws = (): void => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  const node = (): WktNode => {
    ws();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
    if (!m) throw new WktSyntaxError(`expected a keyword at character ${i}`);
    i += m[0].length;
    ws();
    const open = s[i];
    if (open !== '[' && open !== '(') throw new WktSyntaxError(`expected "[" after ${m[0]} at character ${i}`);
    const close = open === '[' ? ']' : ')';
    i++;
    const args: WktValue[] = [];
    for (;;) {
      ws();
      if (s[i] === close) {
        i++;
        break;
      }
      if (args.length > 0) {
        if (s[i] !== ',') throw new WktSyntaxError(`expected "," or "${close}" at character ${i}`);
        i++;
        ws();
      }
      if (s[i] === '"') {
        let out = '';
        i++;
        for (;;) {
          if (i >= s.length) throw new WktSyntaxError('unterminated string');
          if (s[i] === '"') {
            if (s[i + 1] === '"') {
              out += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          out += s[i++];
        }
        args.push(out);
      } else if (/[-+.\d]/.test(s[i] ?? '')) {
        const n = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(s.slice(i));
        if (!n) throw new WktSyntaxError(`bad number at character ${i}`);
        i += n[0].length;
        args.push(Number(n[0]));
      } else {
        const w = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
        if (!w) throw new WktSyntaxError(`unexpected "${s[i] ?? 'end of text'}" at character ${i}`);
        ws();
        const after = s[i + w[0].length];
        if (after === '[' || after === '(') args.push(node());
        else {
          i += w[0].length;
          args.push({ word: w[0] });
        }
      }
    }
    return { keyword: m[0].toUpperCase(), args };
  };
  const root = node();
  ws();
  if (i < s.length) throw new WktSyntaxError(`unexpected text after the WKT at character ${i}`);
  return root;
}

export const isNode = (v: WktValue): v is WktNode => typeof v === 'object' && 'keyword' in v;

export function children(n: WktNode, keyword?: string): WktNode[] {
  return n.args.filter(isNode).filter((c) => keyword === undefined || c.keyword === keyword);
}

export function child(n: WktNode, ...keywords: string[]): WktNode | null {
  for (const k of keywords) {
    const c = children(n, k)[0];
    if (c) return c;
  }
  return null;
}

export function nodeName(n: WktNode | null): string {
  const a = n?.args[0];
  return typeof a === 'string' ? a : '';
}

/** The EPSG code a node declares for itself (its own AUTHORITY / ID child, not a descendant's). */
export function ownEpsgCode(n: WktNode): number | null {
  for (const c of children(n)) {
    if ((c.keyword === 'AUTHORITY' || c.keyword === 'ID') && typeof c.args[0] === 'string' && c.args[0].toUpperCase() === 'EPSG') {
      const code = Number(c.args[1]);
      if (Number.isInteger(code) && code > 0) return code;
    }
  }
  return null;
}

const fmtNumber = (v: number): string => (Number.isInteger(v) ? v.toFixed(1) : String(v));

/** Writes a tree back as one-line WKT (ESRI style: integers as "N.0"). */
export function writeWktTree(n: WktNode, opts: { readonly integerDecimals?: boolean } = {}): string {
  const parts = n.args.map((a): string => {
    if (typeof a === 'string') return `"${a.replace(/"/g, '""')}"`;
    if (typeof a === 'number') return opts.integerDecimals ? fmtNumber(a) : String(a);
    if ('keyword' in a) return writeWktTree(a, opts);
    return a.word;
  });
  return `${n.keyword}[${parts.join(',')}]`;
}
