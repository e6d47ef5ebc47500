/**
 * `samsa configs`: kafka-configs.sh for topics and brokers. --describe prints the dynamic configs
 * (all of them with --all); --alter sets (--add-config) and removes (--delete-config) them with
 * IncrementalAlterConfigs, as Kafka's tool does.
 */
import type { ConfigEntry, ConfigResourceType } from '../../client/admin.js';
import { HELP_FLAG, UsageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { out, OUTPUT_FLAG, outputFormat, printJson } from '../output.js';
import {
  BOOTSTRAP_FLAG,
  CommandError,
  exactlyOne,
  onlyWith,
  openAdmin,
  parsePropertiesFile,
} from './common.js';

export const spec: CommandSpec = {
  command: 'configs',
  summary: 'describe and alter topic and broker configs',
  usage: [
    'samsa configs --bootstrap-server <host:port> --entity-type topics|brokers [--entity-name <name> | --entity-default] --describe [--all]',
    'samsa configs --bootstrap-server <host:port> --entity-type topics|brokers (--entity-name <name> | --entity-default) --alter ' +
      '[--add-config k1=v1,k2=[v1,v2]] [--delete-config k1,k2]',
  ],
  description:
    'Describes and changes configs, as kafka-configs.sh does. --describe lists the configs set dynamically ' +
    '(with --all: every config with its source). --alter applies --add-config and --delete-config in one ' +
    'request; a value containing commas goes in square brackets. --topic <name> and --broker <id> are ' +
    'shorthands for --entity-type and --entity-name.',
  flags: [
    BOOTSTRAP_FLAG,
    { name: 'entity-type', kind: 'value', valueName: 'topics|brokers', help: 'The kind of entity.' },
    {
      name: 'entity-name',
      kind: 'value',
      valueName: 'name',
      help: 'The topic name or broker id; for --describe, all entities of the type when absent.',
    },
    {
      name: 'entity-default',
      kind: 'boolean',
      help: 'The cluster-wide default broker configs (brokers only).',
    },
    {
      name: 'topic',
      kind: 'value',
      valueName: 'name',
      help: 'Same as --entity-type topics --entity-name <name>.',
    },
    {
      name: 'broker',
      kind: 'value',
      valueName: 'id',
      help: 'Same as --entity-type brokers --entity-name <id>.',
    },
    { name: 'broker-defaults', kind: 'boolean', help: 'Same as --entity-type brokers --entity-default.' },
    { name: 'describe', kind: 'boolean', help: 'List the configs of the entity.' },
    { name: 'alter', kind: 'boolean', help: 'Change the configs of the entity.' },
    {
      name: 'all',
      kind: 'boolean',
      help: 'With --describe: every config, including defaults, with its source.',
    },
    {
      name: 'add-config',
      kind: 'value',
      repeatable: true,
      valueName: 'k1=v1,k2=[v1,v2]',
      help: 'Configs to set, comma-separated; square brackets around a value that contains commas.',
    },
    {
      name: 'add-config-file',
      kind: 'value',
      valueName: 'file',
      help: 'A properties file of configs to set.',
    },
    {
      name: 'delete-config',
      kind: 'value',
      repeatable: true,
      valueName: 'k1,k2',
      help: 'Configs to remove, comma-separated.',
    },
    OUTPUT_FLAG,
    HELP_FLAG,
  ],
  examples: [
    'samsa configs --bootstrap-server localhost:9092 --entity-type topics --entity-name orders --alter --add-config retention.ms=3600000',
    'samsa configs --bootstrap-server localhost:9092 --entity-type topics --entity-name orders --describe',
  ],
};

interface Entity {
  type: ConfigResourceType;
  /** '' for the broker default entity. */
  name: string | null;
}

function entityFromArgs(args: ParsedArgs): Entity {
  const shorthand = ['topic', 'broker', 'broker-defaults'].filter((f) => args.has(f));
  if (shorthand.length > 1)
    throw new UsageError(`only one of --topic, --broker, --broker-defaults may be given`);
  if (
    shorthand.length === 1 &&
    (args.has('entity-type') || args.has('entity-name') || args.has('entity-default'))
  ) {
    throw new UsageError(
      `--${shorthand[0]} cannot be combined with --entity-type, --entity-name or --entity-default`,
    );
  }
  if (args.has('topic')) return { type: 'topic', name: args.require('topic') };
  if (args.has('broker')) return { type: 'broker', name: brokerId(args.require('broker'), '--broker') };
  if (args.has('broker-defaults')) return { type: 'broker', name: '' };
  const typeText = args.require('entity-type', '(topics or brokers)');
  let type: ConfigResourceType;
  if (typeText === 'topics') type = 'topic';
  else if (typeText === 'brokers') type = 'broker';
  else throw new UsageError(`--entity-type must be topics or brokers, got '${typeText}'`);
  const name = args.get('entity-name');
  if (args.has('entity-default')) {
    if (type !== 'broker') throw new UsageError('--entity-default is only for --entity-type brokers');
    if (name !== undefined) throw new UsageError('--entity-name and --entity-default cannot both be given');
    return { type, name: '' };
  }
  if (name === undefined) return { type, name: null };
  return { type, name: type === 'broker' ? brokerId(name, '--entity-name') : name };
}

function brokerId(text: string, flag: string): string {
  if (!/^\d+$/.test(text) || Number(text) > 0x7fffffff) {
    throw new UsageError(
      `${flag}: the entity name for brokers must be a valid integer broker id, but it is: ${text}`,
    );
  }
  return String(Number(text));
}

/**
 * Kafka's --add-config syntax: entries separated by commas outside square brackets; a value in
 * brackets keeps its commas (the brackets are dropped).
 */
export function parseAddConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let depth = 0;
  let start = 0;
  const entries: string[] = [];
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === '[') depth++;
    else if (c === ']') depth = Math.max(0, depth - 1);
    else if ((c === ',' && depth === 0) || c === undefined) {
      entries.push(text.slice(start, i));
      start = i + 1;
    }
  }
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new UsageError(`--add-config: '${entry}' is not key=value`);
    let value = entry.slice(eq + 1).trim();
    if (value.startsWith('[') && value.endsWith(']')) value = value.slice(1, -1);
    out.set(entry.slice(0, eq).trim(), value);
  }
  return out;
}

const DYNAMIC_SOURCE: Readonly<Record<ConfigResourceType, string>> = {
  topic: 'DYNAMIC_TOPIC_CONFIG',
  broker: 'DYNAMIC_BROKER_CONFIG',
};

function entityLabel(e: { type: ConfigResourceType; name: string }): string {
  if (e.type === 'broker' && e.name === '') return 'the default broker';
  return `${e.type} ${e.name}`;
}

export async function run(args: ParsedArgs): Promise<number> {
  const action = exactlyOne(args, ['describe', 'alter']);
  onlyWith(args, 'all', ['describe']);
  onlyWith(args, 'output', ['describe']);
  for (const f of ['add-config', 'add-config-file', 'delete-config']) onlyWith(args, f, ['alter']);
  const entity = entityFromArgs(args);
  const json = outputFormat(args) === 'json';
  let sets = new Map<string, string>();
  let deletes: string[] = [];
  if (action === 'alter') {
    if (entity.name === null) {
      throw new UsageError(
        `--alter needs --entity-name${entity.type === 'broker' ? ' or --entity-default' : ''} (which ${entity.type} to change)`,
      );
    }
    const file = args.get('add-config-file');
    if (file !== undefined) sets = parsePropertiesFile('add-config-file', file);
    for (const text of args.all('add-config')) for (const [k, v] of parseAddConfig(text)) sets.set(k, v);
    deletes = args
      .all('delete-config')
      .flatMap((t) => t.split(','))
      .map((k) => k.trim())
      .filter((k) => k !== '');
    if (sets.size === 0 && deletes.length === 0) {
      throw new UsageError('--alter needs --add-config, --add-config-file or --delete-config');
    }
    const both = deletes.filter((k) => sets.has(k));
    if (both.length > 0) throw new UsageError(`${both.join(',')} is both added and deleted`);
  }

  const { admin } = await openAdmin(args, 'samsa-configs');
  try {
    if (action === 'alter') {
      const target = { type: entity.type, name: entity.name! };
      if (deletes.length > 0) {
        // Kafka's tool refuses to delete what is not set: a typo in a name would otherwise pass silently.
        const current = await admin.describeConfigs(target.type, target.name);
        const dynamic = new Set(current.filter((c) => isDynamicFor(c, target)).map((c) => c.name));
        const invalid = deletes.filter((k) => !dynamic.has(k));
        if (invalid.length > 0) throw new CommandError(`Invalid config(s): ${invalid.join(',')}`);
      }
      await admin.incrementalAlterConfigs(target.type, target.name, [
        ...[...sets].map(([name, value]) => ({ name, op: 'set' as const, value })),
        ...deletes.map((name) => ({ name, op: 'delete' as const })),
      ]);
      out(
        target.type === 'broker' && target.name === ''
          ? 'Completed updating default config for brokers in the cluster.'
          : `Completed updating config for ${entityLabel(target)}.`,
      );
      return 0;
    }

    let names: string[];
    if (entity.name !== null) names = [entity.name];
    else if (entity.type === 'topic') names = await admin.listTopics({ includeInternal: true });
    else
      names = [
        ...(await admin.describeCluster()).brokers
          .map((b) => String(b.nodeId))
          .sort((a, b) => Number(a) - Number(b)),
        '',
      ];
    const all = args.has('all');
    const described = await Promise.all(
      names.map(async (name) => {
        const target = { type: entity.type, name };
        const entries = await admin.describeConfigs(entity.type, name);
        const shown = all ? entries : entries.filter((c) => isDynamicFor(c, target));
        return {
          target,
          entries: [...shown].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
        };
      }),
    );
    if (json) {
      printJson(
        described.map((d) => ({
          entityType: d.target.type === 'topic' ? 'topics' : 'brokers',
          entityName: d.target.name === '' ? null : d.target.name,
          configs: d.entries.map((c) => ({
            name: c.name,
            value: c.value,
            source: c.source,
            isDefault: c.isDefault,
            readOnly: c.readOnly,
            sensitive: c.isSensitive,
          })),
        })),
      );
      return 0;
    }
    const lines: string[] = [];
    for (const d of described) {
      const which = all ? 'All' : 'Dynamic';
      lines.push(
        d.target.type === 'broker' && d.target.name === ''
          ? `Default configs for brokers in the cluster are:`
          : `${which} configs for ${entityLabel(d.target)} are:`,
      );
      for (const c of d.entries) {
        const value = c.isSensitive ? 'null' : (c.value ?? 'null');
        lines.push(
          `  ${c.name}=${value} sensitive=${c.isSensitive} synonyms={${c.source}:${c.name}=${value}}`,
        );
      }
    }
    out(lines.join('\n'));
    return 0;
  } finally {
    await admin.close();
  }
}

/** Set on this very entity (not inherited from the broker or a default). */
function isDynamicFor(c: ConfigEntry, target: { type: ConfigResourceType; name: string }): boolean {
  if (target.type === 'broker' && target.name === '') return c.source === 'DYNAMIC_DEFAULT_BROKER_CONFIG';
  return c.source === DYNAMIC_SOURCE[target.type];
}
