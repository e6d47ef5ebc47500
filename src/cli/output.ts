/**
 * What the tools print: results on stdout (aligned tables for people, or JSON with
 * `--output json` for scripts), messages and warnings on stderr, so a script reading stdout
 * never has to skip prose.
 */
import { UsageError, type FlagSpec, type ParsedArgs } from './args.js';

export type OutputFormat = 'table' | 'json';

export const OUTPUT_FLAG: FlagSpec = {
  name: 'output',
  kind: 'value',
  valueName: 'table|json',
  help: "Output format: 'table' (default, Kafka's layout) or 'json' (one JSON document, for scripts).",
};

export function outputFormat(args: ParsedArgs): OutputFormat {
  const v = args.get('output') ?? 'table';
  if (v === 'table' || v === 'json') return v;
  throw new UsageError(`--output must be 'table' or 'json', got '${v}'`);
}

export interface Column {
  readonly header: string;
  /** Kafka's tools pad some columns to at least this width (15 for names, 10 for PARTITION). */
  readonly minWidth?: number;
}

/**
 * Rows aligned under their headers, columns separated by one space, the last column unpadded
 * (as Kafka's `%-15s %-10s %s` formats print them).
 */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) =>
    Math.max(c.minWidth ?? 0, c.header.length, ...rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join(' ')
      .trimEnd();
  return [
    line(columns.map((c) => c.header)),
    ...rows.map((r) => line(columns.map((_, i) => r[i] ?? ''))),
  ].join('\n');
}

/** JSON with int64 values (bigint) as numbers when exact, as strings beyond 2^53. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v !== 'bigint') return v;
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v.toString();
    },
    2,
  );
}

export function printJson(value: unknown): void {
  process.stdout.write(`${toJson(value)}\n`);
}

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function err(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}
