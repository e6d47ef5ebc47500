/**
 * `samsa server`: runs a broker as Kafka's kafka-server-start.sh does, reading server.properties
 * keys. Loaded only for this command, so the client tools start without the broker's code.
 */
import { readFileSync } from 'node:fs';
import { Broker } from '../broker/broker.js';
import { isBrokerConfigError, loadBrokerConfig } from '../broker/config.js';

export const SERVER_USAGE = `usage: samsa server [--config <server.properties>] [--override <key>=<value>]...

  --config, -c <file>     read Kafka broker settings (listeners, log.dirs, num.partitions, …)
  --override <key>=<val>  set one setting, winning over the file (repeatable)
  --help, -h              show this help
`;

function fail(message: string): never {
  process.stderr.write(`samsa: ${message}\n`);
  process.exit(2);
}

export async function server(args: string[]): Promise<void> {
  let configPath: string | undefined;
  const overrides: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--help' || a === '-h') {
      process.stdout.write(SERVER_USAGE);
      return;
    }
    if (a === '--config' || a === '-c') {
      configPath = args[++i] ?? fail(`${a} needs a file name`);
    } else if (a === '--override') {
      const kv = args[++i] ?? fail('--override needs key=value');
      if (!kv.includes('=')) fail(`--override ${kv}: expected key=value`);
      overrides.push(kv);
    } else if (a.startsWith('--override=')) {
      overrides.push(a.slice('--override='.length));
    } else if (!a.startsWith('-') && configPath === undefined) {
      // kafka-server-start.sh takes the properties file as its first argument.
      configPath = a;
    } else fail(`unknown option ${a}\n${SERVER_USAGE}`);
  }
  let propertiesText: string | undefined;
  if (configPath !== undefined) {
    try {
      propertiesText = readFileSync(configPath, 'utf8');
    } catch (e) {
      fail(`cannot read ${configPath}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  const loaded = loadBrokerConfig({ ...(propertiesText !== undefined ? { propertiesText } : {}), overrides });
  if (isBrokerConfigError(loaded)) fail(`${configPath ?? 'configuration'}: ${loaded.message}`);
  for (const w of loaded.warnings) process.stderr.write(`samsa: warning: ${w}\n`);
  const log = (m: string): void => {
    process.stdout.write(`[${new Date().toISOString()}] ${m}\n`);
  };
  // Signals are handled from the start: one arriving during startup (log recovery can take a
  // while) stops the broker as soon as it is up, cleanly, rather than killing it mid-recovery.
  let broker: Broker | null = null;
  let stopRequested: string | null = null;
  let stopping = false;
  const stop = (signal: string): void => {
    if (broker === null) {
      stopRequested ??= signal;
      return;
    }
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    broker.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        log(`shutdown failed: ${String(e)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  broker = await Broker.start({ config: loaded.config, log }).catch((e: unknown) =>
    fail(`cannot start: ${e instanceof Error ? e.message : String(e)}`),
  );
  if (stopRequested !== null) stop(stopRequested);
}
