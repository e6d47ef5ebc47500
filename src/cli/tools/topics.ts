/**
 * `samsa topics`: kafka-topics.sh. Creates, lists, describes, alters (adds partitions to) and
 * deletes topics through the Admin client, printing what Kafka's tool prints. --topic is, as in
 * Kafka, a regular expression matched against whole names for every action but --create.
 */
import type { Admin } from '../../client/admin.js';
import { isKafkaClientError } from '../../client/errors.js';
import { HELP_FLAG, parseKeyValues, UsageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { err, out, OUTPUT_FLAG, outputFormat, printJson } from '../output.js';
import { ZERO_UUID } from '../../protocol/primitives/uuid.js';
import {
  BOOTSTRAP_FLAG,
  openAdmin,
  CommandError,
  exactlyOne,
  onlyWith,
  parseIntValue,
  topicMatcher,
} from './common.js';

const ACTIONS = ['create', 'list', 'describe', 'alter', 'delete'] as const;
const REPORT_FLAGS = [
  'under-replicated-partitions',
  'unavailable-partitions',
  'under-min-isr-partitions',
  'at-min-isr-partitions',
] as const;

const MAX_PARTITIONS = 0x7fffffff;
const MAX_REPLICATION_FACTOR = 0x7fff;

export const spec: CommandSpec = {
  command: 'topics',
  summary: 'create, list, describe, alter and delete topics',
  usage: [
    'samsa topics --bootstrap-server <host:port> --create --topic <name> [--partitions <n>] [--replication-factor <n>] [--config <k=v>]...',
    'samsa topics --bootstrap-server <host:port> --list [--exclude-internal]',
    'samsa topics --bootstrap-server <host:port> --describe [--topic <regex>]',
    'samsa topics --bootstrap-server <host:port> --alter --topic <regex> --partitions <n>',
    'samsa topics --bootstrap-server <host:port> --delete --topic <regex> [--if-exists]',
  ],
  description:
    'Manages topics, as kafka-topics.sh does. Exactly one action (--create, --list, --describe, --alter, --delete) ' +
    'is required. --topic is a regular expression matched against whole topic names (commas separate ' +
    'alternatives), except with --create where it is the name to create.',
  flags: [
    BOOTSTRAP_FLAG,
    { name: 'create', kind: 'boolean', help: 'Create a new topic.' },
    {
      name: 'list',
      kind: 'boolean',
      help: 'List all topics (internal ones too, unless --exclude-internal).',
    },
    { name: 'describe', kind: 'boolean', help: 'Describe the given topics (all when --topic is absent).' },
    { name: 'alter', kind: 'boolean', help: 'Increase the number of partitions of the given topics.' },
    { name: 'delete', kind: 'boolean', help: 'Delete the given topics.' },
    {
      name: 'topic',
      kind: 'value',
      valueName: 'topic',
      help: 'The topic to create, or a regex of topics to act on.',
    },
    {
      name: 'partitions',
      kind: 'value',
      valueName: 'n',
      help: "Number of partitions for --create (default: the broker's num.partitions) or the new total for --alter.",
    },
    {
      name: 'replication-factor',
      kind: 'value',
      valueName: 'n',
      help: "Replication factor for --create (default: the broker's default.replication.factor).",
    },
    {
      name: 'replica-assignment',
      kind: 'value',
      valueName: 'b0:b1,b2:b3,...',
      help: 'Manual replica assignment for --create: partitions separated by commas, the broker ids of each by colons.',
    },
    {
      name: 'config',
      kind: 'value',
      repeatable: true,
      valueName: 'name=value',
      help: 'A topic config override for --create (see `samsa configs` to change configs later).',
    },
    {
      name: 'if-not-exists',
      kind: 'boolean',
      help: 'With --create: succeed without doing anything if the topic exists.',
    },
    {
      name: 'if-exists',
      kind: 'boolean',
      help: 'With --alter, --describe or --delete: succeed without doing anything if no topic matches.',
    },
    {
      name: 'exclude-internal',
      kind: 'boolean',
      help: 'Leave internal topics (__consumer_offsets …) out of --list and --describe.',
    },
    {
      name: 'topics-with-overrides',
      kind: 'boolean',
      help: 'With --describe: only topics with config overrides, without partitions.',
    },
    {
      name: 'under-replicated-partitions',
      kind: 'boolean',
      help: 'With --describe: only partitions whose ISR is smaller than their replicas.',
    },
    {
      name: 'unavailable-partitions',
      kind: 'boolean',
      help: 'With --describe: only partitions whose leader is not available.',
    },
    {
      name: 'under-min-isr-partitions',
      kind: 'boolean',
      help: 'With --describe: only partitions whose ISR is below min.insync.replicas.',
    },
    {
      name: 'at-min-isr-partitions',
      kind: 'boolean',
      help: 'With --describe: only partitions whose ISR equals min.insync.replicas.',
    },
    OUTPUT_FLAG,
    HELP_FLAG,
  ],
  examples: [
    'samsa topics --bootstrap-server localhost:9092 --create --topic orders --partitions 3 --config retention.ms=86400000',
    'samsa topics --bootstrap-server localhost:9092 --describe --topic orders',
    'samsa topics --bootstrap-server localhost:9092 --list --output json',
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const action = exactlyOne(args, ACTIONS);
  onlyWith(args, 'partitions', ['create', 'alter']);
  onlyWith(args, 'replication-factor', ['create']);
  onlyWith(args, 'replica-assignment', ['create']);
  onlyWith(args, 'config', ['create']);
  onlyWith(args, 'if-not-exists', ['create']);
  onlyWith(args, 'if-exists', ['alter', 'describe', 'delete']);
  onlyWith(args, 'exclude-internal', ['list', 'describe']);
  onlyWith(args, 'topics-with-overrides', ['describe']);
  for (const f of REPORT_FLAGS) onlyWith(args, f, ['describe']);
  onlyWith(args, 'output', ['list', 'describe']);
  if (action === 'create' || action === 'alter' || action === 'delete')
    args.require('topic', `with --${action}`);
  if (action === 'alter') args.require('partitions', 'with --alter (the new number of partitions)');
  const format = outputFormat(args);
  const create = action === 'create' ? newTopicFromArgs(args) : null;

  const { admin } = await openAdmin(args, 'samsa-topics');
  try {
    switch (action) {
      case 'create':
        return await createTopic(admin, create!, args.has('if-not-exists'));
      case 'list': {
        const names = await matchingTopics(admin, args);
        if (format === 'json') printJson(names);
        else if (names.length > 0) out(names.join('\n'));
        return 0;
      }
      case 'describe':
        return await describeTopics(admin, args, format === 'json');
      case 'alter': {
        const names = await existingTopics(admin, args);
        const total = parseIntValue('--partitions', args.require('partitions'), 1, MAX_PARTITIONS);
        for (const name of names) await admin.createPartitions(name, total);
        return 0;
      }
      case 'delete': {
        const names = await existingTopics(admin, args);
        if (names.length > 0) await admin.deleteTopics(names);
        return 0;
      }
    }
  } finally {
    await admin.close();
  }
}

interface NewTopicArgs {
  name: string;
  numPartitions?: number;
  replicationFactor?: number;
  configs: Record<string, string>;
  replicaAssignment?: Record<number, number[]>;
}

function newTopicFromArgs(args: ParsedArgs): NewTopicArgs {
  const name = args.require('topic');
  const topic: NewTopicArgs = {
    name,
    configs: Object.fromEntries(
      [...parseKeyValues('config', args.all('config'))].map(([k, v]) => [k, v.trim()]),
    ),
  };
  const assignment = args.get('replica-assignment');
  if (assignment !== undefined) {
    if (args.has('partitions') || args.has('replication-factor')) {
      throw new UsageError('--replica-assignment cannot be used with --partitions or --replication-factor');
    }
    topic.replicaAssignment = parseReplicaAssignment(assignment);
    return topic;
  }
  const partitions = args.get('partitions');
  if (partitions !== undefined) {
    topic.numPartitions = parseIntValue('--partitions', partitions, 1, MAX_PARTITIONS);
  }
  const rf = args.get('replication-factor');
  if (rf !== undefined) {
    topic.replicationFactor = parseIntValue('--replication-factor', rf, 1, MAX_REPLICATION_FACTOR);
  }
  return topic;
}

/** "1:2,2:3": partition 0 on brokers 1 and 2, partition 1 on brokers 2 and 3. */
function parseReplicaAssignment(text: string): Record<number, number[]> {
  const out: Record<number, number[]> = {};
  const parts = text.split(',');
  let width = -1;
  parts.forEach((part, partition) => {
    const brokers = part
      .split(':')
      .map((b) => parseIntValue('--replica-assignment broker id', b, 0, 0x7fffffff));
    if (new Set(brokers).size !== brokers.length) {
      throw new UsageError(`--replica-assignment: partition ${partition} lists a broker twice (${part})`);
    }
    if (width !== -1 && brokers.length !== width) {
      throw new UsageError(
        `--replica-assignment: partition ${partition} has a different replication factor: ${part}`,
      );
    }
    width = brokers.length;
    out[partition] = brokers;
  });
  return out;
}

async function createTopic(admin: Admin, topic: NewTopicArgs, ifNotExists: boolean): Promise<number> {
  if (topic.name.includes('.') && topic.name.includes('_')) {
    err(
      "WARNING: topics with a period ('.') or underscore ('_') could collide in metric names; best use one or the other.",
    );
  }
  try {
    await admin.createTopics([
      {
        name: topic.name,
        configs: topic.configs,
        ...(topic.numPartitions !== undefined ? { numPartitions: topic.numPartitions } : {}),
        ...(topic.replicationFactor !== undefined ? { replicationFactor: topic.replicationFactor } : {}),
        ...(topic.replicaAssignment !== undefined ? { replicaAssignment: topic.replicaAssignment } : {}),
      },
    ]);
  } catch (e) {
    if (isKafkaClientError(e) && e.errorName === 'TOPIC_ALREADY_EXISTS') {
      if (ifNotExists) return 0;
      throw new CommandError(`Topic '${topic.name}' already exists.`);
    }
    throw e;
  }
  out(`Created topic ${topic.name}.`);
  return 0;
}

/** Topic names (sorted) matching --topic, all of them when it is absent. */
async function matchingTopics(admin: Admin, args: ParsedArgs): Promise<string[]> {
  const names = await admin.listTopics({ includeInternal: !args.has('exclude-internal') });
  const pattern = args.get('topic');
  if (pattern === undefined) return names;
  const matches = topicMatcher('topic', pattern);
  return names.filter(matches);
}

/** As matchingTopics, but a --topic that matches nothing is an error unless --if-exists. */
async function existingTopics(admin: Admin, args: ParsedArgs): Promise<string[]> {
  const names = await matchingTopics(admin, args);
  const pattern = args.get('topic');
  if (pattern !== undefined && pattern !== '' && names.length === 0 && !args.has('if-exists')) {
    throw new CommandError(`Topic '${pattern}' does not exist as expected`);
  }
  return names;
}

interface PartitionRow {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
}

async function describeTopics(admin: Admin, args: ParsedArgs, json: boolean): Promise<number> {
  const names = await existingTopics(admin, args);
  if (names.length === 0) {
    if (json) printJson([]);
    return 0;
  }
  const reports = REPORT_FLAGS.filter((f) => args.has(f));
  const withOverrides = args.has('topics-with-overrides');
  const [descriptions, configs, liveBrokers] = await Promise.all([
    admin.describeTopics(names),
    Promise.all(names.map((n) => admin.describeConfigs('topic', n))),
    args.has('unavailable-partitions')
      ? admin.describeCluster().then((c) => new Set(c.brokers.map((b) => b.nodeId)))
      : Promise.resolve(null),
  ]);
  const configsByTopic = new Map(names.map((n, i) => [n, configs[i]!]));
  const lines: string[] = [];
  const docs: unknown[] = [];
  for (const d of [...descriptions].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const entries = configsByTopic.get(d.name) ?? [];
    const overrides = entries.filter((c) => !c.isDefault);
    const minIsrText = entries.find((c) => c.name === 'min.insync.replicas')?.value ?? '1';
    const minIsr = Number(minIsrText);
    const partitions: PartitionRow[] = [...d.partitions].sort((a, b) => a.partition - b.partition);
    const replicationFactor = partitions[0]?.replicas.length ?? 0;
    const shown = partitions.filter((p) => {
      if (withOverrides) return false;
      if (reports.length === 0) return true;
      return reports.some((r) => {
        switch (r) {
          case 'under-replicated-partitions':
            return p.isr.length < p.replicas.length;
          case 'unavailable-partitions':
            return p.leader < 0 || liveBrokers === null || !liveBrokers.has(p.leader);
          case 'under-min-isr-partitions':
            return p.leader < 0 || p.isr.length < minIsr;
          case 'at-min-isr-partitions':
            return p.isr.length === minIsr;
        }
      });
    });
    const showTopicLine = reports.length === 0 && (!withOverrides || overrides.length > 0);
    if (json) {
      if (!showTopicLine && shown.length === 0) continue;
      docs.push({
        name: d.name,
        topicId: d.topicId === ZERO_UUID ? null : d.topicId,
        isInternal: d.isInternal,
        partitionCount: partitions.length,
        replicationFactor,
        configs: Object.fromEntries(overrides.map((c) => [c.name, c.value])),
        partitions: shown.map((p) => ({
          partition: p.partition,
          leader: p.leader < 0 ? null : p.leader,
          replicas: p.replicas,
          isr: p.isr,
          offlineReplicas: p.offlineReplicas,
        })),
      });
      continue;
    }
    if (showTopicLine) {
      lines.push(
        [
          `Topic: ${d.name}`,
          ...(d.topicId === ZERO_UUID ? [] : [`TopicId: ${d.topicId}`]),
          `PartitionCount: ${partitions.length}`,
          `ReplicationFactor: ${replicationFactor}`,
          `Configs: ${overrides.map((c) => `${c.name}=${c.value ?? ''}`).join(',')}`,
        ].join('\t'),
      );
    }
    for (const p of shown) {
      lines.push(
        [
          '',
          `Topic: ${d.name}`,
          `Partition: ${p.partition}`,
          `Leader: ${p.leader < 0 ? 'none' : p.leader}`,
          `Replicas: ${p.replicas.join(',')}`,
          `Isr: ${p.isr.join(',')}`,
          ...(p.offlineReplicas.length > 0 ? [`Offline: ${p.offlineReplicas.join(',')}`] : []),
        ].join('\t'),
      );
    }
  }
  if (json) printJson(docs);
  else if (lines.length > 0) out(lines.join('\n'));
  return 0;
}
