/**
 * The flag parser for the `samsa` tools. It follows Kafka's command-line tools (joptsimple): long
 * flags only, `--flag value` or `--flag=value`, some flags repeatable (--config, --property …),
 * values may look like negative numbers (`--time -1`, `--shift-by -2`). Anything it does not
 * know is refused with a UsageError naming the flag, so a typo never silently changes what a
 * command does.
 */

export type FlagKind =
  /** Present or not: `--list`. */
  | 'boolean'
  /** Needs a value: `--topic t` or `--topic=t`. */
  | 'value'
  /** Takes the next argument as its value unless it is a flag: `--compression-codec [codec]`. */
  | 'optional-value';

export interface FlagSpec {
  /** Long name without the dashes: 'bootstrap-server'. */
  readonly name: string;
  readonly kind: FlagKind;
  /** Other spellings that mean the same flag, with their dashes: ['-h'], ['--broker-list']. */
  readonly aliases?: readonly string[];
  /** May be given more than once; the values are kept in order. */
  readonly repeatable?: boolean;
  /** Shown in help after the flag: 'host:port'. */
  readonly valueName?: string;
  /** Value of an optional-value flag given without one. */
  readonly bareValue?: string;
  readonly help: string;
}

export interface CommandSpec {
  /** As typed after `samsa`: 'topics'. */
  readonly command: string;
  /** One line for the top-level help. */
  readonly summary: string;
  /** The usage line(s) shown first in --help. */
  readonly usage: readonly string[];
  /** Paragraphs after the usage. */
  readonly description?: string;
  readonly flags: readonly FlagSpec[];
  readonly examples?: readonly string[];
}

/** Bad command-line usage: the tool exits 2 and points at --help. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The flags every command takes. */
export const HELP_FLAG: FlagSpec = {
  name: 'help',
  kind: 'boolean',
  aliases: ['-h'],
  help: 'Show this help and exit.',
};

/** Values are bounded so a runaway script cannot make the parser hold an unbounded list. */
export const MAX_ARGUMENTS = 10_000;

export class ParsedArgs {
  constructor(
    readonly spec: CommandSpec,
    private readonly values: ReadonlyMap<string, readonly string[]>,
  ) {}

  has(name: string): boolean {
    this.known(name);
    return this.values.has(name);
  }

  /** The flag's value (undefined when absent). */
  get(name: string): string | undefined {
    this.known(name);
    const v = this.values.get(name);
    return v === undefined ? undefined : v[v.length - 1];
  }

  /** Every value of a repeatable flag, in order. */
  all(name: string): string[] {
    this.known(name);
    return [...(this.values.get(name) ?? [])];
  }

  /** The value of a flag that must be present; the error names it. */
  require(name: string, why?: string): string {
    const v = this.get(name);
    if (v === undefined)
      throw new UsageError(`missing required option --${name}${why === undefined ? '' : ` ${why}`}`);
    return v;
  }

  /** An integer flag within [min, max]; absent gives undefined. */
  int(name: string, min: number, max: number): number | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    return parseIntFlag(name, v, min, max);
  }

  /** The names of the given flags that are present, with dashes, for "exactly one of" checks. */
  present(names: readonly string[]): string[] {
    return names.filter((n) => this.has(n)).map((n) => `--${n}`);
  }

  private known(name: string): void {
    if (!this.spec.flags.some((f) => f.name === name)) {
      throw new Error(`samsa ${this.spec.command}: no flag --${name} is declared (programming error)`);
    }
  }
}

/** Parses a decimal integer flag value, naming the flag when it is not one or out of range. */
export function parseIntFlag(name: string, value: string, min: number, max: number): number {
  return parseIntValue(`--${name}`, value, min, max);
}

/** Parses a decimal integer in [min, max]; the error names `what` (a flag, a property). */
export function parseIntValue(what: string, value: string, min: number, max: number): number {
  if (!/^[+-]?\d+$/.test(value.trim())) throw new UsageError(`${what} expects an integer, got '${value}'`);
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${what} must be between ${min} and ${max}, got ${value}`);
  }
  return n;
}

/** Parses a decimal int64 flag value (offsets), naming the flag when it is not one. */
export function parseBigIntFlag(name: string, value: string, min: bigint): bigint {
  if (!/^[+-]?\d+$/.test(value.trim())) {
    throw new UsageError(`--${name} expects an integer, got '${value}'`);
  }
  const n = BigInt(value.trim());
  if (n < min || n > 0x7fffffffffffffffn) {
    throw new UsageError(`--${name} must be between ${min} and ${0x7fffffffffffffffn}, got ${value}`);
  }
  return n;
}

export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  if (argv.length > MAX_ARGUMENTS)
    throw new UsageError(`too many arguments (${argv.length} > ${MAX_ARGUMENTS})`);
  const byName = new Map<string, FlagSpec>();
  for (const f of spec.flags) {
    byName.set(`--${f.name}`, f);
    for (const a of f.aliases ?? []) byName.set(a, f);
  }
  const values = new Map<string, string[]>();
  const put = (flag: FlagSpec, spelled: string, value: string): void => {
    const list = values.get(flag.name);
    if (list === undefined) values.set(flag.name, [value]);
    else if (flag.repeatable === true) list.push(value);
    else if (flag.kind === 'boolean') return;
    else throw new UsageError(`${spelled} given more than once`);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-' || arg === '--') {
      throw new UsageError(
        `unexpected argument '${arg}' (every value follows its flag, e.g. --topic <name>)`,
      );
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const spelled = eq === -1 ? arg : arg.slice(0, eq);
    const flag = byName.get(spelled);
    if (flag === undefined) throw new UsageError(unknownFlagMessage(spelled, spec));
    if (eq !== -1) {
      if (flag.kind === 'boolean') throw new UsageError(`${spelled} takes no value`);
      put(flag, spelled, arg.slice(eq + 1));
      continue;
    }
    const next = argv[i + 1];
    switch (flag.kind) {
      case 'boolean':
        put(flag, spelled, '');
        break;
      case 'value':
        // A following "--flag" means the value was forgotten; "-1" is a value (negative numbers).
        if (next === undefined || next.startsWith('--')) {
          throw new UsageError(
            `${spelled} needs a value${flag.valueName === undefined ? '' : ` <${flag.valueName}>`}`,
          );
        }
        put(flag, spelled, next);
        i++;
        break;
      case 'optional-value':
        if (next !== undefined && !next.startsWith('-')) {
          put(flag, spelled, next);
          i++;
        } else {
          put(flag, spelled, flag.bareValue ?? '');
        }
        break;
    }
  }
  return new ParsedArgs(spec, values);
}

function unknownFlagMessage(spelled: string, spec: CommandSpec): string {
  let best: string | null = null;
  let bestDistance = 3;
  for (const f of spec.flags) {
    for (const candidate of [`--${f.name}`, ...(f.aliases ?? [])]) {
      const d = editDistance(spelled, candidate, bestDistance);
      if (d < bestDistance) {
        bestDistance = d;
        best = candidate;
      }
    }
  }
  return `unknown option ${spelled}${best === null ? '' : ` (did you mean ${best}?)`}`;
}

/** Levenshtein distance, giving up (returning `limit`) once it cannot be below `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin >= limit) return limit;
    prev = cur;
  }
  return Math.min(prev[b.length]!, limit);
}

/**
 * `key=value` pairs from repeatable flags (--property, --config …); the error names the flag.
 * Values are kept as given, spaces included (`--property key.separator=" | "`).
 */
export function parseKeyValues(flag: string, items: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0 || item.slice(0, eq).trim() === '')
      throw new UsageError(`--${flag} expects key=value, got '${item}'`);
    out.set(item.slice(0, eq).trim(), item.slice(eq + 1));
  }
  return out;
}

const HELP_WIDTH = 100;

export function formatHelp(spec: CommandSpec): string {
  const lines: string[] = [];
  spec.usage.forEach((u, i) => lines.push(`${i === 0 ? 'usage: ' : '       '}${u}`));
  lines.push('');
  if (spec.description !== undefined) {
    for (const para of spec.description.split('\n\n')) {
      lines.push(...wrap(para.replace(/\s*\n\s*/g, ' '), HELP_WIDTH));
      lines.push('');
    }
  }
  lines.push('options:');
  const labels = spec.flags.map((f) => {
    const names = [`--${f.name}`, ...(f.aliases ?? [])].join(', ');
    if (f.kind === 'boolean') return names;
    const v = `<${f.valueName ?? 'value'}>`;
    return `${names} ${f.kind === 'optional-value' ? `[${v}]` : v}`;
  });
  const labelWidth = Math.min(36, Math.max(...labels.map((l) => l.length)));
  spec.flags.forEach((f, i) => {
    const label = labels[i]!;
    const help = f.help + (f.repeatable === true ? ' (repeatable)' : '');
    const body = wrap(help, HELP_WIDTH - labelWidth - 4);
    if (label.length > labelWidth) {
      lines.push(`  ${label}`);
      for (const b of body) lines.push(`  ${' '.repeat(labelWidth)}  ${b}`);
    } else {
      body.forEach((b, j) =>
        lines.push(`  ${j === 0 ? label.padEnd(labelWidth) : ' '.repeat(labelWidth)}  ${b}`),
      );
    }
  });
  if (spec.examples !== undefined && spec.examples.length > 0) {
    lines.push('', 'examples:');
    for (const e of spec.examples) lines.push(`  ${e}`);
  }
  return `${lines.join('\n')}\n`;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line.length === 0 ? word : `${line} ${word}`;
    }
  }
  if (line.length > 0 || out.length === 0) out.push(line);
  return out;
}
