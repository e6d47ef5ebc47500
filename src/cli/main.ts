/**
 * The `samsa` command line: `samsa server` runs a broker as Kafka's kafka-server-start.sh does;
 * the other commands are Kafka's administration tools (kafka-topics.sh, kafka-console-producer.sh
 * …) with Kafka's flag names, built on Samsa's client. Each command's module is imported only
 * when that command runs, so `samsa topics --list` loads neither the broker nor the consumer.
 *
 * Exit codes: 0 success, 1 a failed operation (the message says what went wrong), 2 bad usage.
 */
import { formatHelp, parseArgs, UsageError, type CommandSpec, type ParsedArgs } from './args.js';

/** What a tool module exports. */
export interface ToolModule {
  readonly spec: CommandSpec;
  /** Runs the command; resolves the exit code. Throws UsageError (exit 2) or CommandError (exit 1). */
  run(args: ParsedArgs): Promise<number>;
}

interface ToolEntry {
  readonly summary: string;
  readonly load: () => Promise<ToolModule>;
}

const TOOLS: Readonly<Record<string, ToolEntry>> = {
  topics: {
    summary: 'create, list, describe, alter and delete topics (kafka-topics.sh)',
    load: () => import('./tools/topics.js'),
  },
  'console-producer': {
    summary: 'send lines from stdin as records (kafka-console-producer.sh)',
    load: () => import('./tools/console-producer.js'),
  },
  'console-consumer': {
    summary: 'print records of a topic on stdout (kafka-console-consumer.sh)',
    load: () => import('./tools/console-consumer.js'),
  },
  'consumer-groups': {
    summary: 'list, describe, reset offsets of and delete consumer groups (kafka-consumer-groups.sh)',
    load: () => import('./tools/consumer-groups.js'),
  },
  configs: {
    summary: 'describe and alter topic and broker configs (kafka-configs.sh)',
    load: () => import('./tools/configs.js'),
  },
  'get-offsets': {
    summary: 'print the earliest, latest or by-time offsets of partitions (kafka-get-offsets.sh)',
    load: () => import('./tools/get-offsets.js'),
  },
  'delete-records': {
    summary: 'delete records below given offsets (kafka-delete-records.sh)',
    load: () => import('./tools/delete-records.js'),
  },
};

const USAGE = `usage: samsa <command> [options]

commands:
  server [--config <server.properties>] [--override <key>=<value>]...
      Runs a broker (broker and controller in one process). With no options it listens on
      127.0.0.1:9092 and keeps its data in ./samsa-data.
${Object.entries(TOOLS)
  .map(
    ([name, t]) =>
      `  ${name} --bootstrap-server <host:port> ...\n      ${t.summary[0]!.toUpperCase()}${t.summary.slice(1)}.`,
  )
  .join('\n')}

Run 'samsa <command> --help' for a command's options.
`;

function fail(message: string): never {
  process.stderr.write(`samsa: ${message}\n`);
  process.exit(2);
}

/**
 * Runs a tool command and resolves its exit code, without exiting: what tests and embedders call.
 * Messages go to stderr, results to stdout.
 */
export async function runTool(command: string, argv: readonly string[]): Promise<number> {
  const entry = TOOLS[command];
  if (entry === undefined) {
    process.stderr.write(`samsa: unknown command ${command}\n${USAGE}`);
    return 2;
  }
  const tool = await entry.load();
  let args: ParsedArgs;
  try {
    args = parseArgs(tool.spec, argv);
  } catch (e) {
    // Help wins over a mistake elsewhere on the line: it is what the user is asking for.
    if (argv.includes('--help') || argv.includes('-h')) return help(tool.spec);
    return usageFailure(command, e);
  }
  if (args.has('help')) return help(tool.spec);
  try {
    return await tool.run(args);
  } catch (e) {
    if (e instanceof UsageError) return usageFailure(command, e);
    const { describeError, isExpectedFailure, BOOTSTRAP_ENV } = await import('./tools/common.js');
    const bootstrap = args.get('bootstrap-server') ?? process.env[BOOTSTRAP_ENV];
    process.stderr.write(`samsa ${command}: ${describeError(e, bootstrap)}\n`);
    // Not an anticipated failure: the stack helps whoever reports it.
    if (!isExpectedFailure(e) && e instanceof Error && e.stack !== undefined)
      process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

function help(spec: CommandSpec): number {
  process.stdout.write(formatHelp(spec));
  return 0;
}

function usageFailure(command: string, e: unknown): number {
  if (!(e instanceof UsageError)) throw e;
  process.stderr.write(`samsa ${command}: ${e.message}\nRun 'samsa ${command} --help' for usage.\n`);
  return 2;
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server': {
      const { server } = await import('./server.js');
      return server(rest);
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return;
    default: {
      if (TOOLS[command] === undefined) fail(`unknown command ${command}\n${USAGE}`);
      // `samsa console-consumer | head`: a closed stdout ends the command quietly.
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') process.exit(0);
        throw e;
      });
      const code = await runTool(command, rest);
      // Tools end here, even if a socket or timer of a client is still being torn down: the
      // command's work is done and its output written (stdout and stderr are synchronous for
      // files and pipes).
      process.exit(code);
    }
  }
}
