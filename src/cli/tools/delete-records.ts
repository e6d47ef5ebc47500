/**
 * `samsa delete-records`: kafka-delete-records.sh. Reads Kafka's offset JSON file
 * ({"partitions":[{"topic":"t","partition":0,"offset":3}],"version":1}) and deletes each
 * partition's records below its offset (-1: below the high watermark, i.e. all of them).
 */
import { HELP_FLAG, UsageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { out } from '../output.js';
import { BOOTSTRAP_FLAG, CommandError, describeError, openAdmin, readFlagFile, tpString } from './common.js';

/** Entries in one offset file: a bound on what one command sends. */
export const MAX_PARTITIONS_PER_FILE = 100_000;

export const spec: CommandSpec = {
  command: 'delete-records',
  summary: 'delete records below given offsets',
  usage: ['samsa delete-records --bootstrap-server <host:port> --offset-json-file <file.json>'],
  description:
    'Deletes the records of each listed partition below the given offset (the log start offset moves up to it), ' +
    'as kafka-delete-records.sh does. The file: ' +
    '{"partitions": [{"topic": "foo", "partition": 1, "offset": 1}], "version": 1}. Offset -1 means the high ' +
    'watermark: every record of the partition.',
  flags: [
    BOOTSTRAP_FLAG,
    {
      name: 'offset-json-file',
      kind: 'value',
      valueName: 'file',
      help: 'REQUIRED: the JSON file with an offset per partition.',
    },
    HELP_FLAG,
  ],
  examples: ['samsa delete-records --bootstrap-server localhost:9092 --offset-json-file delete.json'],
};

export interface RecordsToDelete {
  topic: string;
  partition: number;
  offset: bigint;
}

/** Parses Kafka's offset JSON (version 1); errors name the entry at fault. */
export function parseOffsetJson(text: string): RecordsToDelete[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--offset-json-file: not valid JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new UsageError('--offset-json-file: expected an object with "partitions" and "version"');
  }
  const o = doc as Record<string, unknown>;
  const version = o['version'] ?? 1;
  if (version !== 1)
    throw new UsageError(`--offset-json-file: version ${JSON.stringify(version)} is not supported (only 1)`);
  const partitions = o['partitions'];
  if (!Array.isArray(partitions)) throw new UsageError('--offset-json-file: missing "partitions" list');
  if (partitions.length > MAX_PARTITIONS_PER_FILE) {
    throw new UsageError(
      `--offset-json-file: ${partitions.length} partitions (at most ${MAX_PARTITIONS_PER_FILE})`,
    );
  }
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  const result = partitions.map((entry: unknown, i): RecordsToDelete => {
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const topic = e['topic'];
    const partition = e['partition'];
    const offset = e['offset'];
    if (typeof topic !== 'string' || topic === '') {
      throw new UsageError(`--offset-json-file: partitions[${i}] needs a "topic" string`);
    }
    if (
      typeof partition !== 'number' ||
      !Number.isInteger(partition) ||
      partition < 0 ||
      partition > 0x7fffffff
    ) {
      throw new UsageError(`--offset-json-file: partitions[${i}] needs a "partition" number >= 0`);
    }
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < -1) {
      throw new UsageError(`--offset-json-file: partitions[${i}] needs an "offset" integer >= -1`);
    }
    const key = tpString(topic, partition);
    if (seen.has(key)) duplicates.add(key);
    seen.add(key);
    return { topic, partition, offset: BigInt(offset) };
  });
  if (duplicates.size > 0) {
    throw new UsageError(
      `Offset json file contains duplicate topic partitions: ${[...duplicates].join(',')}`,
    );
  }
  return result;
}

export async function run(args: ParsedArgs): Promise<number> {
  const file = args.require('offset-json-file');
  const requests = parseOffsetJson(readFlagFile('offset-json-file', file));
  const { admin, bootstrap } = await openAdmin(args, 'samsa-delete-records');
  try {
    out('Executing records delete operation');
    // One call per partition: each partition's outcome is reported on its own line, as Kafka does.
    const results = await Promise.allSettled(requests.map((r) => admin.deleteRecords([r])));
    out('Records delete operation completed:');
    let failed = 0;
    results.forEach((r, i) => {
      const req = requests[i]!;
      const tp = tpString(req.topic, req.partition);
      if (r.status === 'fulfilled') {
        out(`partition: ${tp}\tlow_watermark: ${r.value[0]?.lowWatermark ?? '?'}`);
      } else {
        failed++;
        out(`partition: ${tp}\terror: ${describeError(r.reason, bootstrap)}`);
      }
    });
    if (failed > 0)
      throw new CommandError(`${failed} of ${requests.length} partitions could not be deleted from`);
    return 0;
  } finally {
    await admin.close();
  }
}
