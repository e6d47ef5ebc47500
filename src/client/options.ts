/**
 * Client option resolution: defaults as in Kafka's clients, and validation whose errors name
 * the option and the value given, so a typo fails at construction rather than at first use.
 */
import { systemClock, type Clock } from '../runtime/clock.js';
import { ConfigError } from './errors.js';

/** A broker address as given in bootstrapServers. */
export interface BrokerAddress {
  host: string;
  port: number;
}

/** An integer option: `value` if given (checked against [min, max]), else `fallback`. */
export function intOption(
  name: string,
  value: number | undefined,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}-${max}`;
    throw new ConfigError(`${name} must be an integer ${range}, got ${String(value)}`);
  }
  return value;
}

/** A boolean option: `value` if given, else `fallback`. */
export function boolOption(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ConfigError(`${name} must be a boolean, got ${String(value)}`);
  return value;
}

/** One of `allowed`, else `fallback` when not given. */
export function enumOption<T extends string>(
  name: string,
  value: T | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got ${String(value)}`);
  }
  return value;
}

/** Parses "host:port,host:port" (or an array of such strings); IPv6 hosts go in brackets: "[::1]:9092". */
export function parseBootstrapServers(servers: string | readonly string[]): BrokerAddress[] {
  const given: unknown = servers;
  const parts: string[] = [];
  if (typeof given === 'string') parts.push(...given.split(','));
  else if (Array.isArray(given)) {
    for (const s of given as unknown[]) {
      if (typeof s !== 'string')
        throw new ConfigError(`bootstrapServers entries must be strings, got ${String(s)}`);
      parts.push(...s.split(','));
    }
  } else {
    throw new ConfigError(`bootstrapServers must be a string or an array of strings, got ${String(given)}`);
  }
  const out: BrokerAddress[] = [];
  for (const raw of parts) {
    const entry = raw.trim();
    if (entry === '') continue;
    out.push(parseAddress(entry));
  }
  if (out.length === 0) {
    throw new ConfigError(
      `bootstrapServers must name at least one host:port, got ${JSON.stringify(servers)}`,
    );
  }
  return out;
}

function parseAddress(entry: string): BrokerAddress {
  let host: string;
  let portText: string;
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0 || entry[close + 1] !== ':') {
      throw new ConfigError(`bootstrapServers entry "${entry}" is not [ipv6]:port`);
    }
    host = entry.slice(1, close);
    portText = entry.slice(close + 2);
  } else {
    const colon = entry.lastIndexOf(':');
    if (colon < 0) throw new ConfigError(`bootstrapServers entry "${entry}" has no port (host:port)`);
    host = entry.slice(0, colon);
    portText = entry.slice(colon + 1);
    if (host.includes(':')) {
      throw new ConfigError(
        `bootstrapServers entry "${entry}": put IPv6 addresses in brackets, as [${host}]:port`,
      );
    }
  }
  const port = Number(portText);
  if (host === '' || !/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new ConfigError(`bootstrapServers entry "${entry}" needs a host and a port in 1-65535`);
  }
  return { host, port };
}

/** Options common to Producer, Consumer and Admin. */
export interface ClientOptions {
  /** "host:port,host:port" or an array of them. */
  bootstrapServers: string | string[];
  /** Default 'samsa'. */
  clientId?: string;
  /** Default 30000 (request.timeout.ms). */
  requestTimeoutMs?: number;
  /** TCP connect plus the ApiVersions handshake. Default 10000 (socket.connection.setup.timeout.ms). */
  connectTimeoutMs?: number;
  /** Default 100 (retry.backoff.ms); doubles per attempt, with ±20% jitter. */
  retryBackoffMs?: number;
  /** Default 1000 (retry.backoff.max.ms). */
  retryBackoffMaxMs?: number;
  /** Default 300000 (metadata.max.age.ms). */
  metadataMaxAgeMs?: number;
  /** How long withRetry keeps trying when the caller gives no deadline. Default 60000 (default.api.timeout.ms). */
  defaultApiTimeoutMs?: number;
  /** Per connection. Default 5 (max.in.flight.requests.per.connection). */
  maxInFlightRequests?: number;
  /** Whether Metadata requests (v4+) may auto-create topics on brokers that allow it. Default false. */
  allowAutoTopicCreation?: boolean;
  /** Silent by default. */
  log?: (message: string) => void;
  /** Timers (timeouts, backoff) go through this clock. Default: the system clock. */
  clock?: Clock;
}

export interface ResolvedClientOptions extends Required<ClientOptions> {
  bootstrapServers: string[];
}

export function resolveClientOptions(
  o: ClientOptions,
): ResolvedClientOptions & { bootstrap: BrokerAddress[] } {
  const given: unknown = o;
  if (typeof given !== 'object' || given === null) {
    throw new ConfigError(`client options must be an object, got ${String(given)}`);
  }
  const bootstrap = parseBootstrapServers(o.bootstrapServers);
  const clientId = o.clientId ?? 'samsa';
  if (typeof clientId !== 'string')
    throw new ConfigError(`clientId must be a string, got ${String(clientId)}`);
  const retryBackoffMs = intOption('retryBackoffMs', o.retryBackoffMs, 100, 1);
  const log = o.log ?? (() => undefined);
  if (typeof log !== 'function') throw new ConfigError(`log must be a function, got ${String(log)}`);
  return {
    bootstrapServers: bootstrap.map((a) =>
      a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`,
    ),
    bootstrap,
    clientId,
    requestTimeoutMs: intOption('requestTimeoutMs', o.requestTimeoutMs, 30_000, 1),
    connectTimeoutMs: intOption('connectTimeoutMs', o.connectTimeoutMs, 10_000, 1),
    retryBackoffMs,
    // Kafka uses the base backoff when the maximum is set below it.
    retryBackoffMaxMs: Math.max(retryBackoffMs, intOption('retryBackoffMaxMs', o.retryBackoffMaxMs, 1000, 1)),
    metadataMaxAgeMs: intOption('metadataMaxAgeMs', o.metadataMaxAgeMs, 300_000, 0),
    defaultApiTimeoutMs: intOption('defaultApiTimeoutMs', o.defaultApiTimeoutMs, 60_000, 1),
    maxInFlightRequests: intOption('maxInFlightRequests', o.maxInFlightRequests, 5, 1),
    allowAutoTopicCreation: boolOption('allowAutoTopicCreation', o.allowAutoTopicCreation, false),
    log,
    clock: o.clock ?? systemClock,
  };
}
