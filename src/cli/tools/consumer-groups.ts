/**
 * `samsa consumer-groups`: kafka-consumer-groups.sh. Lists groups, describes their offsets and
 * lag (or members, or state), resets their committed offsets (only while the group has no
 * active members, as Kafka insists), deletes groups and deletes a group's offsets.
 */
import type { Admin, GroupDescription, OffsetSpec } from '../../client/admin.js';
import { isKafkaClientError } from '../../client/errors.js';
import { HELP_FLAG, parseBigIntFlag, UsageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { err, formatTable, out, OUTPUT_FLAG, outputFormat, printJson, type Column } from '../output.js';
import {
  BOOTSTRAP_FLAG,
  CommandError,
  describeError,
  exactlyOne,
  onlyWith,
  openAdmin,
  parseIntValue,
  readFlagFile,
  tpString,
} from './common.js';

const ACTIONS = ['list', 'describe', 'delete', 'reset-offsets', 'delete-offsets'] as const;
const SCENARIOS = [
  'to-earliest',
  'to-latest',
  'to-current',
  'to-offset',
  'to-datetime',
  'shift-by',
  'by-duration',
  'from-file',
] as const;
const MISSING = '-';
/** Kafka's default for --timeout: how long admin calls keep retrying. */
const DEFAULT_TIMEOUT_MS = 5000;

export const spec: CommandSpec = {
  command: 'consumer-groups',
  summary: 'list, describe, reset offsets of and delete consumer groups',
  usage: [
    'samsa consumer-groups --bootstrap-server <host:port> --list [--state [states]]',
    'samsa consumer-groups --bootstrap-server <host:port> --describe (--group <g> | --all-groups) [--members [--verbose] | --state | --offsets]',
    'samsa consumer-groups --bootstrap-server <host:port> --reset-offsets --group <g> (--topic <t[:p,...]> | --all-topics)',
    '    (--to-earliest | --to-latest | --to-current | --to-offset <n> | --to-datetime <YYYY-MM-DDTHH:mm:SS.sss> |',
    '     --shift-by <n> | --by-duration <PnDTnHnMnS> | --from-file <csv>) [--dry-run | --execute] [--export]',
    'samsa consumer-groups --bootstrap-server <host:port> --delete (--group <g> | --all-groups)',
    'samsa consumer-groups --bootstrap-server <host:port> --delete-offsets --group <g> --topic <t[:p,...]>',
  ],
  description:
    'Manages consumer groups, as kafka-consumer-groups.sh does. --describe prints, per partition, the committed ' +
    'offset (CURRENT-OFFSET), the log end offset, the lag between them and the member consuming it. ' +
    '--reset-offsets only runs while the group has no active members; without --execute it only shows the new ' +
    'offsets (a dry run). Offsets beyond the log are moved to its start or end, as in Kafka.',
  flags: [
    BOOTSTRAP_FLAG,
    { name: 'list', kind: 'boolean', help: 'List the consumer groups.' },
    {
      name: 'describe',
      kind: 'boolean',
      help: 'Describe groups: offsets and lag (default), --members or --state.',
    },
    { name: 'delete', kind: 'boolean', help: 'Delete groups (only groups without active members).' },
    {
      name: 'reset-offsets',
      kind: 'boolean',
      help: "Reset a group's committed offsets (see the scenarios below).",
    },
    { name: 'delete-offsets', kind: 'boolean', help: "Delete a group's committed offsets for --topic." },
    { name: 'group', kind: 'value', repeatable: true, valueName: 'group', help: 'The group to act on.' },
    { name: 'all-groups', kind: 'boolean', help: 'Act on every consumer group.' },
    {
      name: 'topic',
      kind: 'value',
      repeatable: true,
      valueName: 'topic[:p,...]',
      help: 'With --reset-offsets or --delete-offsets: a topic, optionally with the partitions to act on.',
    },
    {
      name: 'all-topics',
      kind: 'boolean',
      help: 'With --reset-offsets: every topic the group has offsets for.',
    },
    { name: 'members', kind: 'boolean', help: 'With --describe: the members instead of the offsets.' },
    { name: 'offsets', kind: 'boolean', help: 'With --describe: the offsets (the default).' },
    {
      name: 'state',
      kind: 'optional-value',
      valueName: 'states',
      help: 'With --describe: the group state. With --list: show states, only those listed if given (comma-separated).',
    },
    {
      name: 'verbose',
      kind: 'boolean',
      help: 'With --describe --members: the partitions assigned to each member.',
    },
    { name: 'to-earliest', kind: 'boolean', help: 'Reset to the earliest offset.' },
    { name: 'to-latest', kind: 'boolean', help: 'Reset to the latest offset (the log end).' },
    {
      name: 'to-current',
      kind: 'boolean',
      help: 'Reset to the committed offset (the log end where none is committed).',
    },
    { name: 'to-offset', kind: 'value', valueName: 'offset', help: 'Reset to this offset.' },
    {
      name: 'to-datetime',
      kind: 'value',
      valueName: 'YYYY-MM-DDTHH:mm:SS.sss',
      help: 'Reset to the first offset at or after this time (local time unless it ends in Z or ±hh:mm).',
    },
    {
      name: 'shift-by',
      kind: 'value',
      valueName: 'n',
      help: 'Move the committed offset by n (negative to go back).',
    },
    {
      name: 'by-duration',
      kind: 'value',
      valueName: 'PnDTnHnMnS',
      help: 'Reset to the first offset at or after now minus this duration.',
    },
    {
      name: 'from-file',
      kind: 'value',
      valueName: 'csv',
      help: "Reset to the offsets in a CSV file of 'topic,partition,offset' (or 'group,topic,partition,offset') lines.",
    },
    {
      name: 'dry-run',
      kind: 'boolean',
      help: 'Show the new offsets without changing anything (the default).',
    },
    { name: 'execute', kind: 'boolean', help: 'Commit the new offsets.' },
    {
      name: 'export',
      kind: 'boolean',
      help: 'With --reset-offsets: print the new offsets as CSV (for --from-file).',
    },
    {
      name: 'timeout',
      kind: 'value',
      valueName: 'ms',
      help: `How long admin requests keep retrying (default ${DEFAULT_TIMEOUT_MS}).`,
    },
    OUTPUT_FLAG,
    HELP_FLAG,
  ],
  examples: [
    'samsa consumer-groups --bootstrap-server localhost:9092 --describe --group my-app',
    'samsa consumer-groups --bootstrap-server localhost:9092 --reset-offsets --group my-app --topic orders --to-earliest --execute',
  ],
};

interface TP {
  topic: string;
  partition: number;
}

const key = (tp: TP): string => tpString(tp.topic, tp.partition);
const byTopicPartition = (a: TP, b: TP): number =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;

export async function run(args: ParsedArgs): Promise<number> {
  const action = exactlyOne(args, ACTIONS);
  validate(args, action);
  const timeoutMs = args.int('timeout', 1, 0x7fffffff) ?? DEFAULT_TIMEOUT_MS;
  const { admin, bootstrap } = await openAdmin(args, 'samsa-consumer-groups', timeoutMs);
  try {
    switch (action) {
      case 'list':
        return await listGroups(admin, args);
      case 'describe':
        return await describeGroups(admin, args);
      case 'delete':
        return await deleteGroups(admin, args, bootstrap);
      case 'reset-offsets':
        return await resetOffsets(admin, args, bootstrap);
      case 'delete-offsets':
        return await deleteOffsets(admin, args);
    }
  } finally {
    await admin.close();
  }
}

function validate(args: ParsedArgs, action: (typeof ACTIONS)[number]): void {
  if (args.has('group') && args.has('all-groups'))
    throw new UsageError('--group and --all-groups cannot both be given');
  if (action !== 'list' && !args.has('group') && !args.has('all-groups')) {
    throw new UsageError(
      `--${action} needs --group <group>${action === 'delete-offsets' ? '' : ' or --all-groups'}`,
    );
  }
  if (action === 'delete-offsets') {
    if (args.all('group').length !== 1) throw new UsageError('--delete-offsets takes exactly one --group');
    args.require('topic', 'with --delete-offsets');
  }
  onlyWith(args, 'topic', ['reset-offsets', 'delete-offsets']);
  onlyWith(args, 'all-topics', ['reset-offsets']);
  for (const f of ['members', 'offsets', 'verbose']) onlyWith(args, f, ['describe']);
  onlyWith(args, 'state', ['describe', 'list']);
  for (const f of [...SCENARIOS, 'dry-run', 'execute', 'export']) onlyWith(args, f, ['reset-offsets']);
  onlyWith(args, 'output', ['list', 'describe', 'reset-offsets']);
  if (action === 'describe') {
    const sub = ['members', 'offsets', 'state'].filter((f) => args.has(f));
    if (sub.length > 1) throw new UsageError(`--describe takes at most one of --members, --offsets, --state`);
    if (args.has('state') && args.get('state') !== '')
      throw new UsageError('--describe --state takes no value');
  }
  if (action === 'reset-offsets') {
    exactlyOne(args, SCENARIOS, 'reset scenario');
    if (args.has('dry-run') && args.has('execute'))
      throw new UsageError('--dry-run and --execute cannot both be given');
    if (!args.has('from-file') && args.has('topic') === args.has('all-topics')) {
      throw new UsageError('One of the reset scopes should be defined: --all-topics, --topic.');
    }
    if (args.has('export') && args.has('output'))
      throw new UsageError('--export and --output cannot both be given');
  }
}

// ---------------------------------------------------------------------------------------- list

/** Consumer groups are those with the consumer protocol, and offset-only groups (no protocol). */
function isConsumerGroup(protocolType: string): boolean {
  return protocolType === 'consumer' || protocolType === '';
}

async function listGroups(admin: Admin, args: ParsedArgs): Promise<number> {
  const groups = (await admin.listGroups())
    .filter((g) => isConsumerGroup(g.protocolType))
    .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  const withState = args.has('state');
  const wanted = (args.get('state') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  const shown = wanted.length === 0 ? groups : groups.filter((g) => wanted.includes(g.state.toLowerCase()));
  if (outputFormat(args) === 'json') {
    printJson(shown.map((g) => ({ group: g.groupId, state: g.state, protocolType: g.protocolType })));
  } else if (withState) {
    out(
      formatTable(
        [{ header: 'GROUP', minWidth: 25 }, { header: 'STATE' }],
        shown.map((g) => [g.groupId, g.state]),
      ),
    );
  } else if (shown.length > 0) {
    out(shown.map((g) => g.groupId).join('\n'));
  }
  return 0;
}

// ------------------------------------------------------------------------------------ describe

async function groupIds(admin: Admin, args: ParsedArgs): Promise<string[]> {
  if (!args.has('all-groups')) return args.all('group');
  return (await admin.listGroups())
    .filter((g) => isConsumerGroup(g.protocolType))
    .map((g) => g.groupId)
    .sort();
}

/** The group's description; state 'Dead' when the coordinator does not know it. */
async function describeGroup(admin: Admin, group: string): Promise<GroupDescription> {
  try {
    const [d] = await admin.describeGroups([group]);
    if (d !== undefined) return d;
  } catch (e) {
    if (!isKafkaClientError(e) || e.errorName !== 'GROUP_ID_NOT_FOUND') throw e;
  }
  return { groupId: group, state: 'Dead', protocolType: '', protocol: '', members: [], coordinator: -1 };
}

function isActive(state: string): boolean {
  return state !== 'Empty' && state !== 'Dead';
}

/** Kafka's notes on a group's state, on stderr; false when there is nothing to show. */
function noteState(d: GroupDescription): boolean {
  if (d.state === 'Dead') return false;
  if (d.state === 'Empty') err(`\nConsumer group '${d.groupId}' has no active members.`);
  else if (d.state === 'PreparingRebalance' || d.state === 'CompletingRebalance') {
    err(`\nWarning: Consumer group '${d.groupId}' is rebalancing.`);
  }
  return true;
}

interface OffsetRow {
  group: string;
  topic: string;
  partition: number;
  currentOffset: bigint | null;
  logEndOffset: bigint | null;
  lag: bigint | null;
  /** null for partitions with a committed offset but no member. */
  consumerId: string | null;
  host: string | null;
  clientId: string | null;
}

/** Latest offsets; partitions whose leader cannot answer are left out (shown as '-'). */
async function logEndOffsets(admin: Admin, tps: readonly TP[]): Promise<Map<string, bigint>> {
  return offsetsAt(admin, tps, 'latest');
}

async function offsetsAt(admin: Admin, tps: readonly TP[], spec: OffsetSpec): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  if (tps.length === 0) return out;
  let results: { topic: string; partition: number; offset: bigint }[];
  try {
    results = await admin.listOffsets(tps.map((tp) => ({ topic: tp.topic, partition: tp.partition, spec })));
  } catch {
    // One bad partition (a deleted topic) fails the whole call: ask one by one instead.
    const each = await Promise.allSettled(
      tps.map((tp) => admin.listOffsets([{ topic: tp.topic, partition: tp.partition, spec }])),
    );
    results = each.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  }
  for (const r of results) out.set(key(r), r.offset);
  return out;
}

async function collectOffsets(admin: Admin, d: GroupDescription): Promise<OffsetRow[]> {
  const committed = await admin.listGroupOffsets(d.groupId);
  const committedBy = new Map(committed.filter((c) => c.offset >= 0n).map((c) => [key(c), c.offset]));
  const rows: OffsetRow[] = [];
  const assigned = new Set<string>();
  const members = [...d.members]
    .filter((m) => m.assignment.length > 0)
    .sort((a, b) => b.assignment.length - a.assignment.length);
  const all: TP[] = [];
  for (const m of members) {
    for (const tp of [...m.assignment].sort(byTopicPartition)) {
      assigned.add(key(tp));
      all.push(tp);
    }
  }
  const unassigned = committed.filter((c) => !assigned.has(key(c))).sort(byTopicPartition);
  all.push(...unassigned);
  const ends = await logEndOffsets(admin, all);
  const row = (
    tp: TP,
    consumerId: string | null,
    host: string | null,
    clientId: string | null,
  ): OffsetRow => {
    const current = committedBy.get(key(tp)) ?? null;
    const end = ends.get(key(tp)) ?? null;
    return {
      group: d.groupId,
      topic: tp.topic,
      partition: tp.partition,
      currentOffset: current,
      logEndOffset: end,
      lag: current !== null && end !== null ? end - current : null,
      consumerId,
      host,
      clientId,
    };
  };
  for (const m of members) {
    for (const tp of [...m.assignment].sort(byTopicPartition))
      rows.push(row(tp, m.memberId, m.host, m.clientId));
  }
  for (const tp of unassigned) rows.push(row(tp, null, null, null));
  return rows;
}

const text = (v: bigint | null): string => (v === null ? MISSING : v.toString());

async function describeGroups(admin: Admin, args: ParsedArgs): Promise<number> {
  const json = outputFormat(args) === 'json';
  const ids = await groupIds(admin, args);
  const descriptions = await Promise.all(ids.map((g) => describeGroup(admin, g)));
  const missing = descriptions.filter((d) => d.state === 'Dead').map((d) => d.groupId);
  const live = descriptions.filter((d) => d.state !== 'Dead');
  const docs: unknown[] = [];

  if (args.has('members')) {
    for (const d of live) {
      if (json) {
        docs.push({
          group: d.groupId,
          state: d.state,
          members: d.members.map((m) => ({
            consumerId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            host: m.host,
            clientId: m.clientId,
            partitions: m.assignment.length,
            assignment: [...m.assignment].sort(byTopicPartition),
          })),
        });
        continue;
      }
      if (!noteState(d) || d.members.length === 0) continue;
      const withInstance = d.members.some((m) => m.groupInstanceId !== null);
      const columns: Column[] = [
        { header: 'GROUP', minWidth: 15 },
        { header: 'CONSUMER-ID', minWidth: 15 },
        ...(withInstance ? [{ header: 'GROUP-INSTANCE-ID', minWidth: 17 }] : []),
        { header: 'HOST', minWidth: 15 },
        { header: 'CLIENT-ID', minWidth: 15 },
        { header: '#PARTITIONS', minWidth: 15 },
        ...(args.has('verbose') ? [{ header: 'ASSIGNMENT' }] : []),
      ];
      const rows = d.members.map((m) => [
        d.groupId,
        m.memberId,
        ...(withInstance ? [m.groupInstanceId ?? MISSING] : []),
        m.host,
        m.clientId,
        String(m.assignment.length),
        ...(args.has('verbose') ? [assignmentText(m.assignment)] : []),
      ]);
      out(`\n${formatTable(columns, rows)}`);
    }
  } else if (args.has('state')) {
    const brokers = new Map((await admin.describeCluster()).brokers.map((b) => [b.nodeId, b]));
    for (const d of live) {
      const b = brokers.get(d.coordinator);
      const coordinator = b === undefined ? `(${d.coordinator})` : `${b.host}:${b.port}  (${d.coordinator})`;
      const strategy = d.protocol === '' ? MISSING : d.protocol;
      if (json) {
        docs.push({
          group: d.groupId,
          coordinator:
            b === undefined ? { id: d.coordinator } : { id: d.coordinator, host: b.host, port: b.port },
          assignmentStrategy: d.protocol === '' ? null : d.protocol,
          state: d.state,
          members: d.members.length,
        });
        continue;
      }
      noteState(d);
      const columns: Column[] = [
        { header: 'GROUP', minWidth: 15 },
        { header: 'COORDINATOR (ID)', minWidth: 25 },
        { header: 'ASSIGNMENT-STRATEGY', minWidth: 20 },
        { header: 'STATE', minWidth: 20 },
        { header: '#MEMBERS' },
      ];
      out(
        `\n${formatTable(columns, [[d.groupId, coordinator, strategy, d.state, String(d.members.length)]])}`,
      );
    }
  } else {
    for (const d of live) {
      const rows = await collectOffsets(admin, d);
      if (json) {
        docs.push({ group: d.groupId, state: d.state, partitions: rows.map(({ group: _g, ...r }) => r) });
        continue;
      }
      if (!noteState(d) || rows.length === 0) continue;
      const columns: Column[] = [
        { header: 'GROUP', minWidth: 15 },
        { header: 'TOPIC', minWidth: 15 },
        { header: 'PARTITION', minWidth: 10 },
        { header: 'CURRENT-OFFSET', minWidth: 15 },
        { header: 'LOG-END-OFFSET', minWidth: 15 },
        { header: 'LAG', minWidth: 15 },
        { header: 'CONSUMER-ID', minWidth: 15 },
        { header: 'HOST', minWidth: 15 },
        { header: 'CLIENT-ID' },
      ];
      const cells = rows.map((r) => [
        r.group,
        r.topic,
        String(r.partition),
        text(r.currentOffset),
        text(r.logEndOffset),
        text(r.lag),
        r.consumerId ?? MISSING,
        r.host ?? MISSING,
        r.clientId ?? MISSING,
      ]);
      out(`\n${formatTable(columns, cells)}`);
    }
  }
  if (json) printJson(docs);
  if (missing.length > 0) {
    throw new CommandError(missing.map((g) => `Consumer group '${g}' does not exist.`).join('\n'));
  }
  return 0;
}

/** `t:0,1;u:3`, as Kafka's verbose member listing shows assignments. */
function assignmentText(tps: readonly TP[]): string {
  if (tps.length === 0) return MISSING;
  const byTopic = new Map<string, number[]>();
  for (const tp of tps) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
  return [...byTopic]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([t, ps]) => `${t}:${ps.sort((a, b) => a - b).join(',')}`)
    .join(';');
}

// -------------------------------------------------------------------------------------- delete

async function deleteGroups(admin: Admin, args: ParsedArgs, bootstrap: string): Promise<number> {
  const ids = await groupIds(admin, args);
  if (ids.length === 0) {
    out('No consumer groups to delete.');
    return 0;
  }
  const results = await Promise.allSettled(ids.map((g) => admin.deleteGroups([g])));
  const ok = ids.filter((_, i) => results[i]!.status === 'fulfilled');
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [[ids[i]!, r.reason] as const] : []));
  if (failed.length === 0) {
    out(`Deletion of requested consumer groups (${ok.map((g) => `'${g}'`).join(', ')}) was successful.`);
    return 0;
  }
  const lines = ['Deletion of some consumer groups failed:'];
  for (const [g, e] of failed)
    lines.push(`* Group '${g}' could not be deleted due to: ${describeError(e, bootstrap)}`);
  if (ok.length > 0)
    lines.push(`These consumer groups were deleted successfully: ${ok.map((g) => `'${g}'`).join(', ')}`);
  throw new CommandError(lines.join('\n'));
}

// ------------------------------------------------------------------------------- reset-offsets

/** `t` (all partitions) or `t:0,2`. */
function parseTopicArg(arg: string): { topic: string; partitions: number[] | null } {
  const colon = arg.indexOf(':');
  if (colon === -1) return { topic: arg, partitions: null };
  const topic = arg.slice(0, colon);
  const list = arg.slice(colon + 1);
  if (topic === '' || list === '')
    throw new UsageError(`Invalid topic arg '${arg}', expected topic name and partitions`);
  return {
    topic,
    partitions: list.split(',').map((p) => parseIntValue(`--topic ${arg}: partition`, p, 0, 0x7fffffff)),
  };
}

/** The partitions --topic names, checked to exist. */
async function topicPartitions(admin: Admin, topicArgs: readonly string[]): Promise<TP[]> {
  const parsed = topicArgs.map(parseTopicArg);
  const topics = [...new Set(parsed.map((p) => p.topic))];
  const descriptions = await admin.describeTopics(topics);
  const existing = new Map(descriptions.map((d) => [d.name, d.partitions.map((p) => p.partition)]));
  const result = new Map<string, TP>();
  const missing: string[] = [];
  for (const p of parsed) {
    const known = existing.get(p.topic);
    if (known === undefined) {
      missing.push(p.topic);
      continue;
    }
    for (const partition of p.partitions ?? known) {
      if (!known.includes(partition)) missing.push(tpString(p.topic, partition));
      else result.set(tpString(p.topic, partition), { topic: p.topic, partition });
    }
  }
  if (missing.length > 0) throw new CommandError(`The partitions "${missing.join(',')}" do not exist`);
  return [...result.values()].sort(byTopicPartition);
}

/** Kafka's --to-datetime: yyyy-MM-ddTHH:mm:SS.sss, local time unless a zone (Z, ±hh:mm, ±hhmm) follows. */
export function parseDateTime(value: string): number {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(
      value,
    );
  if (m === null) {
    throw new UsageError(
      `--to-datetime '${value}' is not a date-time: use YYYY-MM-DDTHH:mm:SS.sss, optionally ending in Z or ±hh:mm`,
    );
  }
  const [y, mo, d, h, mi] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const s = Number(m[6] ?? 0);
  const ms = Number((m[7] ?? '0').padEnd(3, '0'));
  const zone = m[8];
  let time: number;
  if (zone === undefined) {
    time = new Date(y, mo - 1, d, h, mi, s, ms).getTime();
  } else {
    let offsetMinutes = 0;
    if (zone !== 'Z') {
      const sign = zone.startsWith('-') ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0));
    }
    time = Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMinutes * 60_000;
  }
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (
    !Number.isFinite(time) ||
    mo < 1 ||
    mo > 12 ||
    d < 1 ||
    d > daysInMonth ||
    h > 23 ||
    mi > 59 ||
    s > 59
  ) {
    throw new UsageError(`--to-datetime '${value}' is not a valid date-time`);
  }
  return time;
}

/** ISO-8601 durations as Java's Duration.parse reads them: PnDTnHnMn.nS (signs allowed). */
export function parseDurationMs(value: string): number {
  const m =
    /^([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+)(?:[.,](\d{0,9}))?S)?)?$/i.exec(
      value,
    );
  if (
    m === null ||
    (m[2] === undefined && m[3] === undefined && m[4] === undefined && m[5] === undefined) ||
    /T$/i.test(value)
  ) {
    throw new UsageError(`--by-duration '${value}' is not an ISO-8601 duration such as PT1H30M or P1DT12H`);
  }
  const n = (s: string | undefined): number => (s === undefined ? 0 : Number(s));
  const secondsSign = m[5]?.startsWith('-') === true ? -1 : 1;
  const fraction = m[6] === undefined || m[6] === '' ? 0 : Number(`0.${m[6]}`) * secondsSign;
  const total = ((n(m[2]) * 24 + n(m[3])) * 60 + n(m[4])) * 60_000 + (n(m[5]) + fraction) * 1000;
  return Math.round(m[1] === '-' ? -total : total);
}

/** A reset plan from --from-file, for one group. */
function planFromFile(
  args: ParsedArgs,
  group: string,
  single: boolean,
): Map<string, TP & { offset: bigint }> {
  const file = args.require('from-file');
  const textContent = readFlagFile('from-file', file);
  const plan = new Map<string, TP & { offset: bigint }>();
  textContent.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const cells = line.split(',').map((c) => c.trim());
    const where = `--from-file ${file} line ${i + 1}`;
    let g: string, topic: string, partition: string, offset: string;
    if (cells.length === 3 && single) [topic, partition, offset] = cells as [string, string, string];
    else if (cells.length === 4) [g, topic, partition, offset] = cells as [string, string, string, string];
    else throw new UsageError(`${where}: expected topic,partition,offset or group,topic,partition,offset`);
    if (cells.length === 4 && g! !== group) return;
    const tp = { topic, partition: parseIntValue(`${where} partition`, partition, 0, 0x7fffffff) };
    plan.set(key(tp), { ...tp, offset: parseBigIntFlag(`from-file (${where}) offset`, offset, 0n) });
  });
  return plan;
}

/** Moves requested offsets into [log start, log end] with Kafka's warnings. */
async function clamp(
  admin: Admin,
  requested: Map<string, TP & { offset: bigint }>,
): Promise<Map<string, bigint>> {
  const tps = [...requested.values()];
  const [starts, ends] = await Promise.all([
    offsetsAt(admin, tps, 'earliest'),
    offsetsAt(admin, tps, 'latest'),
  ]);
  const result = new Map<string, bigint>();
  for (const r of tps) {
    const k = key(r);
    const start = starts.get(k);
    const end = ends.get(k);
    if (end !== undefined && r.offset > end) {
      err(
        `WARN: New offset (${r.offset}) is higher than latest offset for topic partition ${k}. Value will be set to ${end}.`,
      );
      result.set(k, end);
    } else if (start !== undefined && r.offset < start) {
      err(
        `WARN: New offset (${r.offset}) is lower than earliest offset for topic partition ${k}. Value will be set to ${start}.`,
      );
      result.set(k, start);
    } else {
      result.set(k, r.offset);
    }
  }
  return result;
}

type TPOffset = TP & { offset: bigint };

/** The new offset of each partition to reset, sorted by topic and partition. */
async function newOffsets(
  admin: Admin,
  args: ParsedArgs,
  group: string,
  single: boolean,
): Promise<TPOffset[]> {
  if (args.has('from-file')) {
    const plan = planFromFile(args, group, single);
    if (plan.size === 0) {
      err(`\nError: No reset plan for group ${group} found.`);
      return [];
    }
    const tps = await topicPartitions(
      admin,
      [...plan.values()].map((p) => `${p.topic}:${p.partition}`),
    );
    const clamped = await clamp(admin, plan);
    return tps.map((tp) => ({ ...tp, offset: clamped.get(key(tp))! }));
  }
  const tps = await partitionsToReset(admin, args, group);
  const offsets = await computeOffsets(admin, args, group, tps);
  return tps.map((tp) => ({ ...tp, offset: offsets.get(key(tp))! }));
}

async function partitionsToReset(admin: Admin, args: ParsedArgs, group: string): Promise<TP[]> {
  if (!args.has('all-topics')) return topicPartitions(admin, args.all('topic'));
  const committed = await admin.listGroupOffsets(group);
  return committed
    .filter((c) => c.offset >= 0n)
    .map((c) => ({ topic: c.topic, partition: c.partition }))
    .sort(byTopicPartition);
}

async function computeOffsets(
  admin: Admin,
  args: ParsedArgs,
  group: string,
  tps: readonly TP[],
): Promise<Map<string, bigint>> {
  const committed = await admin.listGroupOffsets(group);
  const committedBy = new Map(committed.filter((c) => c.offset >= 0n).map((c) => [key(c), c.offset]));
  const requested = (f: (tp: TP) => bigint): Map<string, TP & { offset: bigint }> =>
    new Map(tps.map((tp) => [key(tp), { ...tp, offset: f(tp) }]));
  const at = async (spec: OffsetSpec, what: string): Promise<Map<string, bigint>> => {
    const found = await offsetsAt(admin, tps, spec);
    for (const tp of tps) {
      if (!found.has(key(tp)))
        throw new CommandError(`Error getting ${what} offset of topic partition: ${key(tp)}`);
    }
    return found;
  };
  const byTime = async (timestamp: number): Promise<Map<string, bigint>> => {
    const found = await at({ timestamp }, 'by-timestamp');
    const empty = tps.filter((tp) => found.get(key(tp)) === -1n);
    if (empty.length > 0) {
      for (const tp of empty) {
        err(
          `\nWarn: Partition ${tp.partition} from topic ${tp.topic} is empty. Falling back to latest known offset.`,
        );
      }
      const ends = await offsetsAt(admin, empty, 'latest');
      for (const tp of empty) found.set(key(tp), ends.get(key(tp)) ?? -1n);
    }
    return found;
  };
  if (args.has('to-earliest')) return at('earliest', 'starting');
  if (args.has('to-latest')) return at('latest', 'ending');
  if (args.has('to-offset')) {
    const offset = parseBigIntFlag('to-offset', args.require('to-offset'), 0n);
    return clamp(
      admin,
      requested(() => offset),
    );
  }
  if (args.has('shift-by')) {
    const shift = parseBigIntFlag('shift-by', args.require('shift-by'), -0x7fffffffffffffffn);
    for (const tp of tps) {
      if (!committedBy.has(key(tp))) {
        throw new CommandError(
          `Cannot shift offset for partition ${key(tp)} since there is no current committed offset`,
        );
      }
    }
    return clamp(
      admin,
      requested((tp) => committedBy.get(key(tp))! + shift),
    );
  }
  if (args.has('to-datetime')) return byTime(parseDateTime(args.require('to-datetime')));
  if (args.has('by-duration')) return byTime(Date.now() - parseDurationMs(args.require('by-duration')));
  // --to-current
  const ends = await offsetsAt(
    admin,
    tps.filter((tp) => !committedBy.has(key(tp))),
    'latest',
  );
  return new Map(tps.map((tp) => [key(tp), committedBy.get(key(tp)) ?? ends.get(key(tp)) ?? -1n]));
}

async function resetOffsets(admin: Admin, args: ParsedArgs, bootstrap: string): Promise<number> {
  const execute = args.has('execute');
  if (!execute && !args.has('dry-run')) {
    err(
      'WARN: No action will be performed as the --execute option is missing. ' +
        'Add --dry-run to say so explicitly, or --execute to commit the new offsets.',
    );
  }
  const ids = await groupIds(admin, args);
  const plans: { group: string; offsets: { topic: string; partition: number; offset: bigint }[] }[] = [];
  const failures: string[] = [];
  for (const group of ids) {
    const d = await describeGroup(admin, group);
    if (isActive(d.state)) {
      failures.push(
        `Assignments can only be reset if the group '${group}' is inactive, but the current state is ${d.state}.`,
      );
      continue;
    }
    const list = await newOffsets(admin, args, group, ids.length === 1);
    if (execute && list.length > 0) {
      try {
        await admin.alterGroupOffsets(group, list);
      } catch (e) {
        failures.push(`Resetting the offsets of group '${group}' failed: ${describeError(e, bootstrap)}`);
        continue;
      }
    }
    plans.push({ group, offsets: list });
  }
  if (args.has('export')) {
    const single = ids.length === 1;
    const lines = plans.flatMap((p) =>
      p.offsets.map((o) => (single ? '' : `${p.group},`) + `${o.topic},${o.partition},${o.offset}`),
    );
    if (lines.length > 0) out(lines.join('\n'));
  } else if (outputFormat(args) === 'json') {
    printJson(plans.map((p) => ({ group: p.group, executed: execute, offsets: p.offsets })));
  } else if (plans.some((p) => p.offsets.length > 0)) {
    const columns: Column[] = [
      { header: 'GROUP', minWidth: 15 },
      { header: 'TOPIC', minWidth: 15 },
      { header: 'PARTITION', minWidth: 10 },
      { header: 'NEW-OFFSET' },
    ];
    const rows = plans.flatMap((p) =>
      p.offsets.map((o) => [p.group, o.topic, String(o.partition), o.offset.toString()]),
    );
    out(`\n${formatTable(columns, rows)}`);
  }
  if (failures.length > 0) throw new CommandError(failures.join('\n'));
  return 0;
}

// ------------------------------------------------------------------------------ delete-offsets

async function deleteOffsets(admin: Admin, args: ParsedArgs): Promise<number> {
  const group = args.require('group');
  const tps = await topicPartitions(admin, args.all('topic'));
  await admin.deleteGroupOffsets(group, tps);
  out(`Request succeeded for deleting offsets from group ${group}.`);
  const columns: Column[] = [
    { header: 'TOPIC', minWidth: 15 },
    { header: 'PARTITION', minWidth: 10 },
    { header: 'STATUS' },
  ];
  out(
    `\n${formatTable(
      columns,
      tps.map((tp) => [tp.topic, String(tp.partition), 'Successful']),
    )}`,
  );
  return 0;
}
