/**
 * `samsa get-offsets`: kafka-get-offsets.sh. Prints `topic:partition:offset` for the partitions
 * chosen by --topic/--partitions or --topic-partitions, at --time (latest by default).
 */
import type { OffsetSpec } from '../../client/admin.js';
import { HELP_FLAG, UsageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { err, out, OUTPUT_FLAG, outputFormat, printJson } from '../output.js';
import {
  BOOTSTRAP_FLAG,
  openAdmin,
  CommandError,
  describeError,
  parseIntValue,
  topicMatcher,
  tpString,
} from './common.js';

export const spec: CommandSpec = {
  command: 'get-offsets',
  summary: 'print offsets of partitions',
  usage: [
    'samsa get-offsets --bootstrap-server <host:port> [--topic <regex>] [--partitions <0,1>] [--time <-1|-2|-3|ms>]',
    'samsa get-offsets --bootstrap-server <host:port> --topic-partitions <t1:0,t2:1-3,...> [--time ...]',
  ],
  description:
    "Prints 'topic:partition:offset' for each chosen partition, as kafka-get-offsets.sh does. --time picks " +
    'which offset: -1 or latest (the log end, default), -2 or earliest (the log start), -3 or max-timestamp ' +
    '(the record with the largest timestamp), or a timestamp in ms (the first record at or after it; ' +
    'partitions with none are left out).',
  flags: [
    BOOTSTRAP_FLAG,
    {
      name: 'topic',
      kind: 'value',
      valueName: 'regex',
      help: 'Topics to query (a regex matched against whole names); all topics when absent.',
    },
    {
      name: 'partitions',
      kind: 'value',
      valueName: 'ids',
      help: 'Comma-separated partition ids; all when absent.',
    },
    {
      name: 'topic-partitions',
      kind: 'value',
      valueName: 'patterns',
      help:
        "Comma-separated 'topic-regex:partitions' patterns, partitions being N, N-M (M exclusive), N- or -M, " +
        'or nothing for all. Not with --topic or --partitions.',
    },
    {
      name: 'time',
      kind: 'value',
      valueName: 'time',
      help: '-1/latest (default), -2/earliest, -3/max-timestamp, or a timestamp in ms.',
    },
    { name: 'exclude-internal-topics', kind: 'boolean', help: 'Leave internal topics out.' },
    OUTPUT_FLAG,
    HELP_FLAG,
  ],
  examples: ['samsa get-offsets --bootstrap-server localhost:9092 --topic orders --time -2'],
};

type PartitionFilter = (topic: string, partition: number) => boolean;

export function parseOffsetSpec(value: string): OffsetSpec {
  switch (value) {
    case 'latest':
    case '-1':
      return 'latest';
    case 'earliest':
    case '-2':
      return 'earliest';
    case 'max-timestamp':
    case '-3':
      return 'max-timestamp';
  }
  if (!/^\d+$/.test(value)) {
    throw new UsageError(
      `--time '${value}' is not valid: use -1 or latest, -2 or earliest, -3 or max-timestamp, or a timestamp in ms`,
    );
  }
  const timestamp = Number(value);
  if (!Number.isSafeInteger(timestamp)) throw new UsageError(`--time ${value} is too large`);
  return { timestamp };
}

/** Kafka's --topic-partitions rules: `regex`, `regex:N`, `regex:N-M`, `regex:N-`, `regex:-M`, `:N`. */
export function parseTopicPartitions(text: string): PartitionFilter {
  const rules = text.split(',').map((rule): PartitionFilter => {
    const m = /^([^:,]*)(?::(?:(\d*)|(?:(\d*)-(\d*))))?$/.exec(rule);
    if (m === null) throw new UsageError(`--topic-partitions: invalid pattern '${rule}'`);
    const topicOk = m[1] === '' ? () => true : topicMatcher('topic-partitions', m[1]!);
    const bound = (s: string | undefined): number | undefined =>
      s === undefined || s === ''
        ? undefined
        : parseIntValue('--topic-partitions partition', s, 0, 0x7fffffff);
    const single = bound(m[2]);
    const lower = bound(m[3]);
    const upper = bound(m[4]);
    if (m[2] === '' && m[3] === undefined)
      throw new UsageError(`--topic-partitions: '${rule}' has no partition after ':'`);
    return (topic, partition) => {
      if (!topicOk(topic)) return false;
      if (single !== undefined) return partition === single;
      return (lower === undefined || partition >= lower) && (upper === undefined || partition < upper);
    };
  });
  return (topic, partition) => rules.some((r) => r(topic, partition));
}

function partitionSet(text: string): Set<number> {
  return new Set(
    text
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '')
      .map((p) => parseIntValue('--partitions', p, 0, 0x7fffffff)),
  );
}

export async function run(args: ParsedArgs): Promise<number> {
  const tpText = args.get('topic-partitions');
  if (tpText !== undefined && (args.has('topic') || args.has('partitions'))) {
    throw new UsageError('--topic-partitions cannot be used with --topic or --partitions');
  }
  let filter: PartitionFilter;
  if (tpText !== undefined) {
    filter = parseTopicPartitions(tpText);
  } else {
    const topicOk = topicMatcher('topic', args.get('topic') ?? '.*');
    const partitionsText = args.get('partitions');
    const partitions = partitionsText === undefined ? null : partitionSet(partitionsText);
    filter = (t, p) => topicOk(t) && (partitions === null || partitions.size === 0 || partitions.has(p));
  }
  const spec = parseOffsetSpec(args.get('time') ?? 'latest');
  const json = outputFormat(args) === 'json';
  const { admin, bootstrap } = await openAdmin(args, 'GetOffsetShell');
  try {
    const names = await admin.listTopics({ includeInternal: !args.has('exclude-internal-topics') });
    const descriptions = names.length === 0 ? [] : await admin.describeTopics(names);
    const chosen = descriptions
      .flatMap((d) => d.partitions.map((p) => ({ topic: d.name, partition: p.partition })))
      .filter((tp) => filter(tp.topic, tp.partition))
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
    if (chosen.length === 0)
      throw new CommandError('Could not match any topic-partitions with the specified filters');
    // One request per partition, so one partition's error does not hide the others' offsets.
    const results = await Promise.allSettled(
      chosen.map((tp) => admin.listOffsets([{ topic: tp.topic, partition: tp.partition, spec }])),
    );
    const rows: { topic: string; partition: number; offset: bigint }[] = [];
    let failed = 0;
    results.forEach((r, i) => {
      const tp = chosen[i]!;
      if (r.status === 'rejected') {
        failed++;
        err(
          `Skip getting offsets for topic-partition ${tpString(tp.topic, tp.partition)} due to error: ${describeError(r.reason, bootstrap)}`,
        );
        return;
      }
      const offset = r.value[0]?.offset ?? -1n;
      // No record at or after the timestamp: Kafka's tool leaves the partition out.
      if (offset !== -1n) rows.push({ topic: tp.topic, partition: tp.partition, offset });
    });
    if (failed === chosen.length)
      throw new CommandError(`no offsets could be read (${failed} partitions failed)`);
    if (json) printJson(rows);
    else if (rows.length > 0) out(rows.map((r) => `${r.topic}:${r.partition}:${r.offset}`).join('\n'));
    return 0;
  } finally {
    await admin.close();
  }
}
