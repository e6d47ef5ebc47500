/**
 * What every tool shares: the --bootstrap-server flag (required, as in Kafka's tools), the client
 * options a command-line tool wants (short timeouts, so a wrong address fails in seconds rather
 * than a minute), and the translation of client errors into one line that says what went wrong.
 */
import { readFileSync } from 'node:fs';

import { Admin } from '../../client/admin.js';
import { Cluster } from '../../client/cluster.js';
import { ConfigError, KafkaClientError } from '../../client/errors.js';
import type { ClientOptions } from '../../client/options.js';
import { parseBootstrapServers } from '../../client/options.js';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args.js';
export { parseIntValue } from '../args.js';
import { isPropertiesError, parseProperties } from '../../runtime/properties.js';

/** A failed operation: the tool prints the message and exits 1. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

export const BOOTSTRAP_ENV = 'SAMSA_BOOTSTRAP_SERVER';

export const BOOTSTRAP_FLAG: FlagSpec = {
  name: 'bootstrap-server',
  kind: 'value',
  valueName: 'host:port,...',
  help: `REQUIRED: the broker(s) to connect to. When absent, ${BOOTSTRAP_ENV} is used if set.`,
};

/** TCP connect plus ApiVersions: a live broker answers in milliseconds, a dead address fails fast. */
export const CLI_CONNECT_TIMEOUT_MS = 5_000;
/** How long one request may wait for its answer. */
export const CLI_REQUEST_TIMEOUT_MS = 30_000;
/** How long retriable errors are retried (a leader being elected, a coordinator loading). */
export const CLI_API_TIMEOUT_MS = 15_000;

/** The bootstrap servers from --bootstrap-server or the environment; a usage error names the flag. */
export function bootstrapServers(args: ParsedArgs): string {
  const given = args.get('bootstrap-server') ?? process.env[BOOTSTRAP_ENV];
  if (given === undefined || given.trim() === '') {
    throw new UsageError(`missing required option --bootstrap-server (or set ${BOOTSTRAP_ENV})`);
  }
  try {
    parseBootstrapServers(given);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`--bootstrap-server: ${e.message}`);
    throw e;
  }
  return given;
}

export function clientOptions(
  args: ParsedArgs,
  clientId: string,
  apiTimeoutMs = CLI_API_TIMEOUT_MS,
): ClientOptions {
  return {
    bootstrapServers: bootstrapServers(args),
    clientId,
    connectTimeoutMs: CLI_CONNECT_TIMEOUT_MS,
    requestTimeoutMs: CLI_REQUEST_TIMEOUT_MS,
    defaultApiTimeoutMs: apiTimeoutMs,
  };
}

/**
 * One Metadata request (for no topics) before the real work: an unreachable or wrong address
 * fails here at once with "cannot reach …", where the client's retries would otherwise go on for
 * the whole API timeout. The connection it opens is the one the command goes on to use.
 */
async function checkReachable(cluster: Cluster, bootstrap: string): Promise<void> {
  try {
    await cluster.refreshMetadata([]);
  } catch (e) {
    await cluster.close();
    throw new CommandError(describeError(e, bootstrap));
  }
}

/** An Admin client for the tool, with the cluster known to be reachable. */
export async function openAdmin(
  args: ParsedArgs,
  clientId: string,
  apiTimeoutMs = CLI_API_TIMEOUT_MS,
): Promise<{ admin: Admin; bootstrap: string }> {
  const options = clientOptions(args, clientId, apiTimeoutMs);
  const bootstrap = String(options.bootstrapServers);
  const admin = new Admin(options);
  await checkReachable(admin.cluster, bootstrap);
  return { admin, bootstrap };
}

/**
 * A short-lived cluster view for the console tools, whose producer or consumer would otherwise
 * wait for an unreachable broker until max.block.ms; the caller closes it.
 */
export async function openCluster(options: ClientOptions): Promise<Cluster> {
  const cluster = new Cluster(options);
  await checkReachable(cluster, String(options.bootstrapServers));
  return cluster;
}

/** Client errors that mean no broker could be reached at all. */
const UNREACHABLE = new Set([
  'CONNECTION_FAILED',
  'CONNECT_TIMEOUT',
  'NO_BROKER_AVAILABLE',
  'CONNECTION_CLOSED',
]);

/** One line for an error: what failed, and the broker's reason. */
export function describeError(e: unknown, bootstrap: string | undefined): string {
  if (e instanceof KafkaClientError) {
    if (UNREACHABLE.has(e.errorName) && bootstrap !== undefined) {
      return `cannot reach ${bootstrap}: ${e.message.replace(/^no broker reachable: /, '')}`;
    }
    return e.message;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Failures the tools anticipate (broker answers, unreachable brokers, bad options): no stack trace. */
export function isExpectedFailure(e: unknown): boolean {
  return e instanceof CommandError || e instanceof KafkaClientError || e instanceof ConfigError;
}

/** Reads a file named by a flag; the error names the flag and the reason. */
export function readFlagFile(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new UsageError(`--${flag} ${path}: cannot read the file (${code})`);
  }
}

/** A Java properties file named by a flag, read as the broker reads server.properties. */
export function parsePropertiesFile(flag: string, path: string): Map<string, string> {
  const props = parseProperties(readFlagFile(flag, path));
  if (isPropertiesError(props)) throw new UsageError(`--${flag} ${path}: ${props.message}`);
  return props;
}

/**
 * Kafka's topic include list: a Java regex matched against the whole name, where ',' separates
 * alternatives and surrounding quotes are dropped. The RegExp returned is anchored.
 */
export function includePattern(flag: string, pattern: string): RegExp {
  const cleaned = pattern
    .trim()
    .replace(/,/g, '|')
    .replace(/ /g, '')
    .replace(/^["']+/, '')
    .replace(/["']+$/, '');
  try {
    return new RegExp(`^(?:${cleaned})$`);
  } catch (e) {
    throw new UsageError(`--${flag} '${pattern}' is not a valid regular expression: ${(e as Error).message}`);
  }
}

export function topicMatcher(flag: string, pattern: string): (topic: string) => boolean {
  const re = includePattern(flag, pattern);
  return (topic) => re.test(topic);
}

/** Exactly one of the flags must be present; the message lists them as Kafka's tools do. */
export function exactlyOne<T extends string>(args: ParsedArgs, names: readonly T[], what = 'action'): T {
  const present = names.filter((n) => args.has(n));
  if (present.length !== 1) {
    throw new UsageError(
      `command must include exactly one ${what}: ${names.map((n) => `--${n}`).join(', ')}` +
        (present.length > 1 ? ` (got ${present.map((n) => `--${n}`).join(' and ')})` : ''),
    );
  }
  return present[0]!;
}

/** Flags that only make sense with certain actions; the error names both. */
export function onlyWith(args: ParsedArgs, flag: string, allowed: readonly string[]): void {
  if (args.has(flag) && !allowed.some((a) => args.has(a))) {
    throw new UsageError(`--${flag} can only be used with ${allowed.map((a) => `--${a}`).join(' or ')}`);
  }
}

/** Topic-partition as Kafka prints it: t-0. */
export function tpString(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Refuses `--property` keys outside `known` (`what`: "formatter", "reader"), naming the ones it knows. */
export function checkProperties(
  props: ReadonlyMap<string, string>,
  known: ReadonlySet<string>,
  what: string,
): void {
  for (const k of props.keys()) {
    if (!known.has(k)) {
      throw new UsageError(`--property ${k}: unknown ${what} property (known: ${[...known].join(', ')})`);
    }
  }
}

/** A true/false `--property`, `fallback` when absent. */
export function booleanProperty(props: ReadonlyMap<string, string>, key: string, fallback: boolean): boolean {
  const v = props.get(key);
  return v === undefined ? fallback : parseTrueFalse(`--property ${key}`, v);
}

/** `true` or `false` (any case); otherwise a usage error naming `what`. */
export function parseTrueFalse(what: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new UsageError(`${what} must be true or false, got '${value}'`);
}
