/**
 * Java `.properties` syntax, read the way `java.util.Properties.load` does (separators `=`, `:`
 * or whitespace; `#`/`!` comments; backslash continuation; `\t \n \r \f \uXXXX` and escaped
 * separators), plus trimming of unescaped trailing whitespace, as Kafka's own parsing trims every
 * value. Later duplicates win. Errors name the line. Used for the broker's `server.properties`,
 * `meta.properties` and the command line tools' config files.
 */

/** A syntax error in properties text; `line` is 1-based. */
export interface PropertiesError {
  readonly kind: 'PropertiesError';
  readonly line: number;
  readonly reason: string;
  /** "line N: reason" */
  readonly message: string;
}

export function isPropertiesError(x: unknown): x is PropertiesError {
  return typeof x === 'object' && x !== null && (x as Partial<PropertiesError>).kind === 'PropertiesError';
}

/** One key/value read from properties text, with the line its logical line starts on. */
export interface PropertyEntry {
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

const PROPS_WHITESPACE = new Set([' ', '\t', '\f']);

function propertiesError(line: number, reason: string): PropertiesError {
  return { kind: 'PropertiesError', line, reason, message: `line ${String(line)}: ${reason}` };
}

/**
 * Unescapes one key or value (Java's `Properties.loadConvert`). `lines[i]` is the physical line of
 * `chars[i]`, for error messages. Returns the text and how many leading characters of it came
 * from escapes or non-whitespace, so unescaped trailing whitespace can be trimmed.
 */
function unescape(
  chars: readonly string[],
  lines: readonly number[],
  from: number,
  to: number,
): { text: string; keep: number } | PropertiesError {
  let out = '';
  let keep = 0;
  for (let i = from; i < to; i++) {
    const c = chars[i] as string;
    if (c !== '\\') {
      out += c;
      if (!PROPS_WHITESPACE.has(c)) keep = out.length;
      continue;
    }
    const next = chars[++i];
    if (next === undefined) break; // a dangling backslash (only possible at end of input) is dropped
    if (next === 'u') {
      const hex = chars.slice(i + 1, i + 5).join('');
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        return propertiesError(lines[i] as number, `malformed \\uXXXX escape "\\u${hex}"`);
      }
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else {
      out += next === 't' ? '\t' : next === 'n' ? '\n' : next === 'r' ? '\r' : next === 'f' ? '\f' : next;
    }
    keep = out.length;
  }
  return { text: out, keep };
}

/** Splits a logical line into key and value (Java's `Properties.load0`). */
function readEntry(chars: readonly string[], lines: readonly number[]): PropertyEntry | PropertiesError {
  const line = lines[0] as number;
  const limit = chars.length;
  let keyLen = 0;
  let valueStart = limit;
  let hasSeparator = false;
  let escaped = false;
  while (keyLen < limit) {
    const c = chars[keyLen] as string;
    if ((c === '=' || c === ':') && !escaped) {
      valueStart = keyLen + 1;
      hasSeparator = true;
      break;
    }
    if (PROPS_WHITESPACE.has(c) && !escaped) {
      valueStart = keyLen + 1;
      break;
    }
    escaped = c === '\\' ? !escaped : false;
    keyLen++;
  }
  while (valueStart < limit) {
    const c = chars[valueStart] as string;
    if (!PROPS_WHITESPACE.has(c)) {
      if (!hasSeparator && (c === '=' || c === ':')) hasSeparator = true;
      else break;
    }
    valueStart++;
  }
  const key = unescape(chars, lines, 0, keyLen);
  if (isPropertiesError(key)) return key;
  if (key.text === '') return propertiesError(line, 'missing key before the separator');
  const value = unescape(chars, lines, valueStart, limit);
  if (isPropertiesError(value)) return value;
  return { key: key.text, value: value.text.slice(0, value.keep), line };
}

/** Reads every entry of properties text, in order (duplicates included). */
/** The entries of properties text in order, each with the line it starts on, or the first syntax error. */
export function readProperties(text: string): PropertyEntry[] | PropertiesError {
  const physical = (text.startsWith('\uFEFF') ? text.slice(1) : text).split(/\r\n|\r|\n/);
  const entries: PropertyEntry[] = [];
  let chars: string[] = [];
  let lines: number[] = [];
  let continuing = false;
  for (let n = 0; n < physical.length; n++) {
    const lineNo = n + 1;
    const raw = Array.from(physical[n] as string);
    let start = 0;
    while (start < raw.length && PROPS_WHITESPACE.has(raw[start] as string)) start++;
    if (start === raw.length) {
      // Blank: ends a continued logical line (Java stops at an empty continuation line).
      if (continuing) {
        const entry = readEntry(chars, lines);
        if (isPropertiesError(entry)) return entry;
        entries.push(entry);
        chars = [];
        lines = [];
        continuing = false;
      }
      continue;
    }
    if (chars.length === 0 && (raw[start] === '#' || raw[start] === '!')) {
      continuing = false; // comment lines are never continued
      continue;
    }
    let backslashes = 0;
    for (let i = raw.length - 1; i >= start && raw[i] === '\\'; i--) backslashes++;
    const continues = backslashes % 2 === 1;
    const content = raw.slice(start, continues ? raw.length - 1 : raw.length);
    chars.push(...content);
    for (let i = 0; i < content.length; i++) lines.push(lineNo);
    if (continues) {
      continuing = true;
      continue;
    }
    continuing = false;
    if (chars.length === 0) continue;
    const entry = readEntry(chars, lines);
    if (isPropertiesError(entry)) return entry;
    entries.push(entry);
    chars = [];
    lines = [];
  }
  if (chars.length > 0) {
    // Input ended inside a continuation: Java keeps what was read.
    const entry = readEntry(chars, lines);
    if (isPropertiesError(entry)) return entry;
    entries.push(entry);
  }
  return entries;
}

/**
 * Parses Java `.properties` text into key → value (later duplicates win), or a `PropertiesError`
 * naming the line (a malformed `\uXXXX` escape, or a line with a separator but no key).
 */
export function parseProperties(text: string): Map<string, string> | PropertiesError {
  const entries = readProperties(text);
  if (isPropertiesError(entries)) return entries;
  return new Map(entries.map((e) => [e.key, e.value]));
}
