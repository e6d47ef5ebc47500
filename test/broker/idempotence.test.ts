/**
 * Idempotent producers against a real broker over real sockets, with raw protocol requests:
 * InitProducerId v0-5 (distinct increasing ids, epoch 0, blocks persisted across restarts,
 * transactional ids refused for now); Produce v3-11 with idempotent batches (in-order appends,
 * duplicates answered with their original offsets and not written again, sequence gaps, old
 * epochs, unknown producers); duplicate detection surviving a clean restart (producer snapshot
 * at close) and a SIGKILL (state replayed from the log); and producer.id.expiration.ms.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startBroker, type RunningBroker } from '../../src/broker/embed.js';
import { CompressionCodec } from '../../src/protocol/compression/index.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { CreateTopicsRequest } from '../../src/protocol/generated/message/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../../src/protocol/generated/message/CreateTopicsResponse.js';
import { FindCoordinatorRequest } from '../../src/protocol/generated/message/FindCoordinatorRequest.js';
import { FindCoordinatorResponse } from '../../src/protocol/generated/message/FindCoordinatorResponse.js';
import { InitProducerIdRequest } from '../../src/protocol/generated/message/InitProducerIdRequest.js';
import { InitProducerIdResponse } from '../../src/protocol/generated/message/InitProducerIdResponse.js';
import { ListOffsetsRequest } from '../../src/protocol/generated/message/ListOffsetsRequest.js';
import { ListOffsetsResponse } from '../../src/protocol/generated/message/ListOffsetsResponse.js';
import { ProduceRequest } from '../../src/protocol/generated/message/ProduceRequest.js';
import { ProduceResponse } from '../../src/protocol/generated/message/ProduceResponse.js';
import { decodeRecordBatch, encodeRecordBatch, newRecordBatch } from '../../src/protocol/records/batch.js';
import { BatchSplitter } from '../../src/protocol/records/batch-view.js';
import { freePort, repoRoot, SamsaProcess } from './interop/process.js';
import { RawClient } from './raw-client.js';

const LATEST = -1;
const PRODUCE_VERSIONS = [3, 4, 5, 6, 7, 8, 9, 10, 11];
const INIT_PID_VERSIONS = [0, 1, 2, 3, 4, 5];
/** An id no InitProducerId of these tests hands out (blocks of 1000 from 0). */
const STRANGER = 987_654_321n;
/** Kafka's ProducerIdsBlock size, which the controller hands out at a time. */
const PRODUCER_ID_BLOCK_SIZE = 1000n;

// ------------------------------------------------------------------ raw requests

/** An idempotent batch of `n` records `${tag}-${i}`, producer `pid` at `epoch`, starting at `seq`. */
function idem(pid: bigint, epoch: number, seq: number, n: number, tag: string): Buffer {
  const now = Date.now();
  return encodeRecordBatch(
    newRecordBatch(
      Array.from({ length: n }, (_, i) => ({
        key: Buffer.from(`k-${tag}`),
        value: Buffer.from(`${tag}-${i}`),
        timestamp: now,
      })),
      { producerId: pid, producerEpoch: epoch, baseSequence: seq },
    ),
    { compression: CompressionCodec.None },
  );
}

function plain(n: number, tag: string): Buffer {
  return encodeRecordBatch(
    newRecordBatch(
      Array.from({ length: n }, (_, i) => ({
        key: null,
        value: Buffer.from(`${tag}-${i}`),
        timestamp: Date.now(),
      })),
    ),
    { compression: CompressionCodec.None },
  );
}

async function initPid(
  raw: RawClient,
  version: number,
  o: { transactionalId?: string; producerId?: bigint; producerEpoch?: number } = {},
): Promise<InitProducerIdResponse> {
  return raw.send(InitProducerIdRequest, InitProducerIdResponse, version, {
    ...InitProducerIdRequest.create(),
    transactionalId: o.transactionalId ?? null,
    transactionTimeoutMs: 60_000,
    producerId: version >= 3 ? (o.producerId ?? -1n) : -1n,
    producerEpoch: version >= 3 ? (o.producerEpoch ?? -1) : -1,
  });
}

/** A new producer id at InitProducerId v`version` (v4 by default), checked. */
async function newPid(raw: RawClient, version = 4): Promise<bigint> {
  const r = await initPid(raw, version);
  assert.equal(r.errorCode, ErrorCode.NONE, `InitProducerId v${version}`);
  assert.equal(r.producerEpoch, 0, 'a new producer starts at epoch 0');
  return r.producerId;
}

type PartResult = ProduceResponse.PartitionProduceResponse;

/** One Produce (acks=-1) of `records` to each listed partition of `topic`; the answers by partition. */
async function produceMany(
  raw: RawClient,
  version: number,
  topic: string,
  parts: readonly { partition: number; records: Buffer }[],
): Promise<PartResult[]> {
  const res = await raw.send(ProduceRequest, ProduceResponse, version, {
    ...ProduceRequest.create(),
    transactionalId: null,
    acks: -1,
    timeoutMs: 10_000,
    topicData: [
      {
        name: topic,
        partitionData: parts.map((p) => ({
          index: p.partition,
          records: p.records,
          unknownTaggedFields: undefined,
        })),
        unknownTaggedFields: undefined,
      },
    ],
  });
  assert.equal(res.responses.length, 1, 'one topic answered');
  const answers = res.responses[0]!.partitionResponses;
  assert.equal(answers.length, parts.length, 'every partition answered');
  return parts.map((p) => {
    const a = answers.find((x) => x.index === p.partition);
    assert.ok(a !== undefined, `partition ${p.partition} answered`);
    return a;
  });
}

async function produce(
  raw: RawClient,
  version: number,
  topic: string,
  records: Buffer,
  partition = 0,
): Promise<PartResult> {
  return (await produceMany(raw, version, topic, [{ partition, records }]))[0]!;
}

/** Produces and expects `code` (and, for NONE, `baseOffset`). */
async function expectProduce(
  raw: RawClient,
  version: number,
  topic: string,
  records: Buffer,
  code: number,
  baseOffset: number | null,
  what: string,
  partition = 0,
): Promise<void> {
  const r = await produce(raw, version, topic, records, partition);
  assert.equal(
    r.errorCode,
    code,
    `${what}: error ${r.errorCode} (${r.errorMessage ?? 'no message'}), expected ${code}`,
  );
  if (baseOffset !== null) assert.equal(r.baseOffset, BigInt(baseOffset), `${what}: base offset`);
  else assert.equal(r.baseOffset, -1n, `${what}: no base offset with an error`);
}

async function latest(raw: RawClient, topic: string, partition = 0): Promise<number> {
  const res = await raw.send(ListOffsetsRequest, ListOffsetsResponse, 7, {
    ...ListOffsetsRequest.create(),
    replicaId: -1,
    isolationLevel: 0,
    topics: [
      {
        name: topic,
        partitions: [
          {
            ...ListOffsetsRequest.structs.ListOffsetsPartition(),
            partitionIndex: partition,
            timestamp: BigInt(LATEST),
          },
        ],
        unknownTaggedFields: undefined,
      },
    ],
  });
  const p = res.topics[0]?.partitions[0];
  assert.ok(p !== undefined, 'ListOffsets answered the partition');
  assert.equal(p.errorCode, ErrorCode.NONE, 'ListOffsets latest');
  return Number(p.offset);
}

interface Fetched {
  offset: number;
  value: string;
  producerId: bigint;
  baseSequence: number;
}

/** Every record of a partition, from offset 0 (Fetch v11, by name), bounded to 50 requests. */
async function fetchAll(raw: RawClient, topic: string, partition = 0): Promise<Fetched[]> {
  const out: Fetched[] = [];
  let offset = 0;
  const end = await latest(raw, topic, partition);
  for (let i = 0; i < 50 && offset < end; i++) {
    const p = await raw.fetchPartition(topic, partition, offset);
    assert.ok(p !== undefined, 'Fetch answered the partition');
    assert.equal(p.errorCode, ErrorCode.NONE, `Fetch ${topic}-${partition} at ${offset}`);
    const it = new BatchSplitter(p.records ?? Buffer.alloc(0));
    while (it.next()) {
      const b = decodeRecordBatch(Buffer.from(it.batch()), { maxDecompressedBytes: 1 << 24 });
      if (b instanceof Error) throw b;
      for (const r of b.records) {
        const o = Number(b.baseOffset) + r.offsetDelta;
        if (o < offset) continue;
        out.push({
          offset: o,
          value: r.value?.toString('utf8') ?? '',
          producerId: b.producerId,
          baseSequence: b.baseSequence,
        });
      }
      offset = Number(b.baseOffset) + b.lastOffsetDelta + 1;
    }
  }
  assert.equal(offset, end, `read ${topic}-${partition} to its end`);
  return out;
}

async function createTopic(raw: RawClient, name: string, partitions = 1): Promise<void> {
  const res = await raw.send(CreateTopicsRequest, CreateTopicsResponse, 7, {
    ...CreateTopicsRequest.create(),
    timeoutMs: 10_000,
    topics: [
      {
        ...CreateTopicsRequest.structs.CreatableTopic(),
        name,
        numPartitions: partitions,
        replicationFactor: 1,
      },
    ],
  });
  assert.equal(res.topics[0]?.errorCode, ErrorCode.NONE, `created ${name}`);
}

function snapshotFiles(dataDir: string, topic: string, partition = 0): string[] {
  const dir = join(dataDir, `${topic}-${partition}`);
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.snapshot')) : [];
}

// ------------------------------------------------------------------ harness

interface Env {
  b: RunningBroker;
  raw: RawClient;
  dataDir: string;
}

/** A broker on a fresh data folder and a raw client; `fn` may restart it (`restart`). */
async function withEnv(
  config: Record<string, string>,
  fn: (env: Env, restart: () => Promise<Env>) => Promise<void>,
): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'samsa-idem-'));
  let b: RunningBroker | null = null;
  let raw: RawClient | null = null;
  const open = async (): Promise<Env> => {
    b = await startBroker({ port: 0, dataDir, config });
    raw = await RawClient.open(b.port);
    return { b, raw, dataDir };
  };
  const close = async (): Promise<void> => {
    const [rb, rr] = [b, raw];
    b = null;
    raw = null;
    rr?.close();
    await rb?.stop();
  };
  try {
    const env = await open();
    await fn(env, async () => {
      await close();
      return open();
    });
  } finally {
    await close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ the broker as a child process

/** The test runs compiled (dist/test/…) or from source through tsx (test/…). */
const FROM_SOURCE = fileURLToPath(import.meta.url).endsWith('.ts');

/**
 * A broker process killable with SIGKILL. Compiled, it is the real `samsa server` (bin/samsa.js,
 * process.ts). From source, dist/ may predate the code under test, so the child runs the
 * broker from source instead (src/broker/embed.ts through tsx) with the same settings.
 */
class BrokerChild {
  private constructor(
    readonly port: number,
    private readonly samsa: SamsaProcess | null,
    private readonly child: ChildProcess | null,
    private readonly exited: Promise<void>,
  ) {}

  static async start(dataDir: string, overrides: Record<string, string>): Promise<BrokerChild> {
    const port = await freePort();
    if (!FROM_SOURCE) {
      const p = await SamsaProcess.start({
        port,
        dataDir,
        overrides: Object.entries(overrides).map(([k, v]) => `${k}=${v}`),
      });
      return new BrokerChild(
        port,
        p,
        null,
        p.exited.then(() => undefined),
      );
    }
    const embed = join(repoRoot(), 'src', 'broker', 'embed.ts');
    const script = [
      'const { startBroker } = await import(process.argv[1]);',
      'const b = await startBroker({ port: Number(process.argv[2]), dataDir: process.argv[3], config: JSON.parse(process.argv[4]) });',
      "console.log('listening on ' + b.port);",
      "process.on('SIGTERM', () => void b.stop().then(() => process.exit(0)));",
    ].join('\n');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
        embed,
        String(port),
        dataDir,
        JSON.stringify({ 'num.partitions': '1', ...overrides }),
      ],
      { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    BrokerChild.live.add(child);
    let out = '';
    let err = '';
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        BrokerChild.live.delete(child);
        resolve();
      });
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the broker child did not start in 30 s\n${out}\n${err}`));
      }, 30_000);
      child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString('utf8');
        if (out.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`the broker child exited before listening\n${out}\n${err}`));
      });
    });
    return new BrokerChild(port, null, child, exited);
  }

  private static readonly live = new Set<ChildProcess>();

  static async killAll(): Promise<void> {
    for (const c of BrokerChild.live) c.kill('SIGKILL');
    await SamsaProcess.killAll();
  }

  async kill(): Promise<void> {
    if (this.samsa !== null) this.samsa.kill('SIGKILL');
    else this.child!.kill('SIGKILL');
    await this.exited;
  }
}

after(() => BrokerChild.killAll());

// ------------------------------------------------------------------ tests

void describe('InitProducerId', () => {
  void test('v0-5: distinct increasing ids at epoch 0; after a restart every id is above those handed out before', async () => {
    await withEnv({}, async ({ raw }, restart) => {
      const before: bigint[] = [];
      for (const v of INIT_PID_VERSIONS) {
        for (let i = 0; i < 3; i++) {
          const r = await initPid(raw, v);
          assert.equal(r.errorCode, ErrorCode.NONE, `v${v}: no error`);
          assert.equal(r.producerEpoch, 0, `v${v}: epoch 0`);
          assert.ok(r.producerId >= 0n, `v${v}: a real id (${r.producerId})`);
          before.push(r.producerId);
        }
      }
      for (let i = 1; i < before.length; i++) {
        assert.ok(before[i]! > before[i - 1]!, `ids increase: ${before.join(',')}`);
      }
      // KIP-360: an idempotent producer that sends its id and epoch (v3+) gets a new id.
      const last = before[before.length - 1]!;
      const bumped = await initPid(raw, 4, { producerId: last, producerEpoch: 0 });
      assert.equal(bumped.errorCode, ErrorCode.NONE, 'v4 with an existing id and epoch');
      assert.ok(bumped.producerId > last, `a new id after ${last}: ${bumped.producerId}`);
      before.push(bumped.producerId);

      const env = await restart();
      const maxBefore = before.reduce((a, b) => (b > a ? b : a));
      const afterIds: bigint[] = [];
      for (const v of INIT_PID_VERSIONS) {
        const r = await initPid(env.raw, v);
        assert.equal(r.errorCode, ErrorCode.NONE, `after restart v${v}: no error`);
        assert.equal(r.producerEpoch, 0, `after restart v${v}: epoch 0`);
        afterIds.push(r.producerId);
      }
      for (const id of afterIds) {
        assert.ok(id > maxBefore, `id ${id} after the restart is above every earlier id (max ${maxBefore})`);
      }
      assert.equal(new Set(afterIds).size, afterIds.length, 'distinct after the restart');
      assert.ok(
        afterIds[0]! >= PRODUCER_ID_BLOCK_SIZE,
        `the rest of the first block is skipped: ${afterIds[0]} ≥ ${PRODUCER_ID_BLOCK_SIZE}`,
      );
    });
  });

  void test('concurrent requests on several connections get distinct ids', async () => {
    await withEnv({}, async ({ b }) => {
      const clients = await Promise.all(Array.from({ length: 4 }, () => RawClient.open(b.port)));
      try {
        const ids = (
          await Promise.all(
            clients.map(async (c, i) => {
              const got: bigint[] = [];
              for (let k = 0; k < 10; k++) got.push(await newPid(c, [0, 2, 4, 5][i]));
              return got;
            }),
          )
        ).flat();
        assert.equal(new Set(ids).size, ids.length, `40 distinct ids: ${ids.join(',')}`);
      } finally {
        clients.forEach((c) => c.close());
      }
    });
  });

  void test('more ids than a block: the next block follows, and a restart starts a block after both', async () => {
    await withEnv({}, async ({ b }, restart) => {
      const clients = await Promise.all(Array.from({ length: 4 }, () => RawClient.open(b.port)));
      let ids: bigint[];
      try {
        ids = (
          await Promise.all(
            clients.map(async (c) => {
              const got: bigint[] = [];
              for (let k = 0; k < 260; k++) got.push(await newPid(c, 1));
              return got;
            }),
          )
        ).flat();
      } finally {
        clients.forEach((c) => c.close());
      }
      assert.equal(new Set(ids).size, 1040, '1,040 distinct ids');
      const sorted = [...ids].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      assert.deepEqual(
        [sorted[0], sorted[sorted.length - 1]],
        [0n, 1039n],
        'two blocks used in order, none skipped while running',
      );
      const env = await restart();
      const next = await newPid(env.raw, 5);
      assert.ok(next >= 2n * PRODUCER_ID_BLOCK_SIZE, `after the restart a third block: ${next}`);
    });
  });

  void test('a transactional id: NOT_COORDINATOR before __transaction_state exists, then a producer id at epoch 0, epoch 1 on a second init (v0-5)', async () => {
    await withEnv({}, async ({ raw }) => {
      const before = await initPid(raw, 4, { transactionalId: 'tx-early' });
      assert.equal(before.errorCode, ErrorCode.NOT_COORDINATOR, 'no coordinator before FindCoordinator');
      const found = await raw.send(FindCoordinatorRequest, FindCoordinatorResponse, 4, {
        ...FindCoordinatorRequest.create(),
        keyType: 1,
        coordinatorKeys: INIT_PID_VERSIONS.map((v) => `tx-${v}`),
      });
      for (const c of found.coordinators) {
        assert.equal(c.errorCode, ErrorCode.NONE, `FindCoordinator ${c.key}`);
      }
      /** InitProducerId, retried while the new __transaction_state partitions load. */
      const init = async (v: number, transactionalId: string): Promise<InitProducerIdResponse> => {
        for (let i = 0; ; i++) {
          const r = await initPid(raw, v, { transactionalId });
          const loading =
            r.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ||
            r.errorCode === ErrorCode.NOT_COORDINATOR ||
            r.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS;
          if (!loading || i >= 100) return r;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      const ids = new Set<bigint>();
      for (const v of INIT_PID_VERSIONS) {
        const first = await init(v, `tx-${v}`);
        assert.equal(first.errorCode, ErrorCode.NONE, `v${v}: first init`);
        assert.ok(first.producerId >= 0n, `v${v}: a real producer id (${first.producerId})`);
        assert.equal(first.producerEpoch, 0, `v${v}: epoch 0 on the first init`);
        const second = await init(v, `tx-${v}`);
        assert.equal(second.errorCode, ErrorCode.NONE, `v${v}: second init`);
        assert.equal(second.producerId, first.producerId, `v${v}: the same producer id`);
        assert.equal(second.producerEpoch, 1, `v${v}: epoch 1 on the second init`);
        ids.add(first.producerId);
      }
      assert.equal(ids.size, INIT_PID_VERSIONS.length, 'each transactional id has its own producer id');
    });
  });
});

void describe('idempotent Produce', () => {
  void test('v3-11: in order, duplicates with their original offsets, gaps, old epochs, unknown producers', async () => {
    await withEnv({}, async ({ raw }) => {
      for (const v of PRODUCE_VERSIONS) {
        const topic = `idem-v${v}`;
        await createTopic(raw, topic);
        const pid = await newPid(raw);
        const A = idem(pid, 0, 0, 3, 'A');
        const B = idem(pid, 0, 3, 2, 'B');
        await expectProduce(raw, v, topic, A, ErrorCode.NONE, 0, `v${v} A (seq 0-2)`);
        await expectProduce(raw, v, topic, B, ErrorCode.NONE, 3, `v${v} B (seq 3-4)`);
        assert.equal(await latest(raw, topic), 5, `v${v}: log end after A and B`);

        // Retries: the same batches again are answered as written, with their offsets.
        await expectProduce(raw, v, topic, B, ErrorCode.NONE, 3, `v${v} B again`);
        await expectProduce(raw, v, topic, A, ErrorCode.NONE, 0, `v${v} A again (an older batch)`);
        assert.equal(await latest(raw, topic), 5, `v${v}: duplicates did not move the log end`);

        // A gap, then the batch that fills it.
        await expectProduce(
          raw,
          v,
          topic,
          idem(pid, 0, 7, 1, 'gap'),
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          null,
          `v${v} seq 7 after 4`,
        );
        // The same sequence range with other content is still a sequence problem, not accepted.
        await expectProduce(
          raw,
          v,
          topic,
          idem(pid, 0, 4, 2, 'overlap'),
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          null,
          `v${v} seq 4-5 overlapping B`,
        );
        await expectProduce(raw, v, topic, idem(pid, 0, 5, 1, 'C'), ErrorCode.NONE, 5, `v${v} C (seq 5)`);

        // A new epoch starts at sequence 0; the old epoch is fenced.
        await expectProduce(
          raw,
          v,
          topic,
          idem(pid, 1, 3, 1, 'bad-start'),
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          null,
          `v${v} epoch 1 starting at seq 3`,
        );
        await expectProduce(raw, v, topic, idem(pid, 1, 0, 2, 'D'), ErrorCode.NONE, 6, `v${v} D (epoch 1)`);
        await expectProduce(
          raw,
          v,
          topic,
          idem(pid, 0, 6, 1, 'old'),
          ErrorCode.INVALID_PRODUCER_EPOCH,
          null,
          `v${v} epoch 0 after epoch 1`,
        );
        // C's retry belongs to the fenced epoch: not a duplicate any more.
        await expectProduce(
          raw,
          v,
          topic,
          idem(pid, 0, 5, 1, 'C'),
          ErrorCode.INVALID_PRODUCER_EPOCH,
          null,
          `v${v} C again at epoch 0`,
        );

        // A producer the partition never saw: only sequence 0 starts it.
        await expectProduce(
          raw,
          v,
          topic,
          idem(STRANGER, 0, 5, 1, 'stranger'),
          ErrorCode.UNKNOWN_PRODUCER_ID,
          null,
          `v${v} unknown producer at seq 5`,
        );
        await expectProduce(raw, v, topic, idem(STRANGER, 0, 0, 1, 'E'), ErrorCode.NONE, 8, `v${v} E`);
        // Plain (non-idempotent) batches go through untouched, and may be sent twice.
        const P = plain(1, 'P');
        await expectProduce(raw, v, topic, P, ErrorCode.NONE, 9, `v${v} plain`);
        await expectProduce(raw, v, topic, P, ErrorCode.NONE, 10, `v${v} plain again (no dedup)`);
        await expectProduce(raw, v, topic, idem(pid, 1, 2, 1, 'F'), ErrorCode.NONE, 11, `v${v} F`);
        assert.equal(await latest(raw, topic), 12, `v${v}: log end`);

        const seen = await fetchAll(raw, topic);
        assert.deepEqual(
          seen.map((r) => `${r.offset}:${r.value}`),
          ['A-0', 'A-1', 'A-2', 'B-0', 'B-1', 'C-0', 'D-0', 'D-1', 'E-0', 'P-0', 'P-0', 'F-0'].map(
            (x, i) => `${i}:${x}`,
          ),
          `v${v}: each record exactly once, in order`,
        );
        assert.equal(seen[0]!.producerId, pid, `v${v}: the batches keep their producer id`);
        assert.equal(seen[8]!.producerId, STRANGER, `v${v}: E keeps the stranger's id`);
      }
    });
  });

  void test('one request over several partitions: a duplicate on one, new batches on the others', async () => {
    await withEnv({}, async ({ raw }) => {
      const topic = 'idem-multi';
      await createTopic(raw, topic, 3);
      const pid = await newPid(raw);
      const first = [0, 1, 2].map((p) => ({ partition: p, records: idem(pid, 0, 0, 2, `p${p}-a`) }));
      const r1 = await produceMany(raw, 9, topic, first);
      r1.forEach((r, p) => {
        assert.equal(r.errorCode, ErrorCode.NONE, `partition ${p} first`);
        assert.equal(r.baseOffset, 0n, `partition ${p} at 0`);
      });
      // Partition 0 retries its batch; 1 sends its next; 2 skips ahead.
      const r2 = await produceMany(raw, 9, topic, [
        first[0]!,
        { partition: 1, records: idem(pid, 0, 2, 2, 'p1-b') },
        { partition: 2, records: idem(pid, 0, 9, 1, 'p2-x') },
      ]);
      assert.deepEqual(
        r2.map((r) => [r.errorCode, r.baseOffset]),
        [
          [ErrorCode.NONE, 0n],
          [ErrorCode.NONE, 2n],
          [ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, -1n],
        ],
        'each partition judged on its own state',
      );
      assert.deepEqual(
        [await latest(raw, topic, 0), await latest(raw, topic, 1), await latest(raw, topic, 2)],
        [2, 4, 2],
        'log ends',
      );
    });
  });

  void test('two batches in one partition’s records are refused from Produce v3 on, as in Kafka', async () => {
    await withEnv({}, async ({ raw }) => {
      const topic = 'idem-two-batches';
      await createTopic(raw, topic);
      const pid = await newPid(raw);
      const a = idem(pid, 0, 0, 2, 'a');
      const b = idem(pid, 0, 2, 2, 'b');
      const pair = await produce(raw, 11, topic, Buffer.concat([a, b]));
      assert.equal(pair.errorCode, ErrorCode.INVALID_RECORD, pair.errorMessage ?? '');
      assert.match(pair.errorMessage ?? '', /exactly one record batch per partition/);
      assert.equal(await latest(raw, topic), 0, 'nothing of the refused request was written');
      await expectProduce(raw, 11, topic, a, ErrorCode.NONE, 0, 'a alone');
      await expectProduce(raw, 11, topic, b, ErrorCode.NONE, 2, 'b alone');
    });
  });

  void test('the same batch on two connections at once: written once, both answered with its offset', async () => {
    await withEnv({}, async ({ b, raw }) => {
      const topic = 'idem-race';
      await createTopic(raw, topic);
      const other = await RawClient.open(b.port);
      try {
        const pid = await newPid(raw);
        for (let k = 0; k < 20; k++) {
          const batch = idem(pid, 0, k * 3, 3, `r${k}`);
          const [x, y] = await Promise.all([
            produce(raw, 11, topic, batch),
            produce(other, 11, topic, batch),
          ]);
          assert.deepEqual(
            [x.errorCode, x.baseOffset, y.errorCode, y.baseOffset],
            [ErrorCode.NONE, BigInt(k * 3), ErrorCode.NONE, BigInt(k * 3)],
            `round ${k}: both connections get the one write's offset`,
          );
        }
      } finally {
        other.close();
      }
      assert.equal(await latest(raw, topic), 60, 'each batch written once');
      const seen = await fetchAll(raw, topic);
      assert.equal(new Set(seen.map((r) => r.value)).size, 60, 'no record twice');
    });
  });

  void test('a duplicate followed by a new batch in one partition’s records: the new batch is written or the request refused', async () => {
    // Kafka refuses more than one batch per partition from Produce v3 on (INVALID_RECORD); a
    // broker that accepts several must not answer success for a batch it did not write.
    await withEnv({}, async ({ raw }) => {
      const topic = 'idem-dup-then-new';
      await createTopic(raw, topic);
      const pid = await newPid(raw);
      const a = idem(pid, 0, 0, 2, 'a');
      await expectProduce(raw, 11, topic, a, ErrorCode.NONE, 0, 'a');
      const r = await produce(raw, 11, topic, Buffer.concat([a, idem(pid, 0, 2, 2, 'b')]));
      const end = await latest(raw, topic);
      if (r.errorCode === ErrorCode.NONE) {
        assert.equal(end, 4, `answered NONE (base ${r.baseOffset}): b must be in the log, log end ${end}`);
      } else {
        assert.equal(end, 2, 'refused: nothing written');
      }
      // The producer goes on with sequence 4 after a success; the broker must agree.
      const next = await produce(raw, 11, topic, idem(pid, 0, 4, 1, 'c'));
      if (r.errorCode === ErrorCode.NONE) {
        assert.equal(next.errorCode, ErrorCode.NONE, `seq 4 after the acknowledged b: ${next.errorMessage}`);
      }
    });
  });

  void test('a new batch of one producer followed by a duplicate of another’s: the new batch is written or the request refused', async () => {
    await withEnv({}, async ({ raw }) => {
      const topic = 'idem-new-then-dup';
      await createTopic(raw, topic);
      const [p1, p2] = [await newPid(raw), await newPid(raw)];
      const x = idem(p2, 0, 0, 1, 'x');
      await expectProduce(raw, 11, topic, x, ErrorCode.NONE, 0, 'x of p2');
      const r = await produce(raw, 11, topic, Buffer.concat([idem(p1, 0, 0, 2, 'a'), x]));
      const end = await latest(raw, topic);
      if (r.errorCode === ErrorCode.NONE) {
        assert.equal(
          end,
          3,
          `answered NONE (base ${r.baseOffset}): p1's batch must be in the log, log end ${end}`,
        );
      } else {
        assert.equal(end, 1, 'refused: nothing written');
      }
    });
  });
});

void describe('producer state across restarts', () => {
  void test('a clean restart: the last batch is still a duplicate with its original offsets', async () => {
    await withEnv({}, async ({ raw }, restart) => {
      const topic = 'idem-restart';
      await createTopic(raw, topic, 2);
      const pid = await newPid(raw);
      const batches = [0, 1].map((p) => [idem(pid, 0, 0, 3, `p${p}-a`), idem(pid, 0, 3, 4, `p${p}-b`)]);
      for (const p of [0, 1]) {
        await expectProduce(raw, 11, topic, batches[p]![0]!, ErrorCode.NONE, 0, `p${p} a`, p);
        await expectProduce(raw, 11, topic, batches[p]![1]!, ErrorCode.NONE, 3, `p${p} b`, p);
      }

      const env = await restart();
      for (const p of [0, 1]) {
        assert.ok(
          snapshotFiles(env.dataDir, topic, p).length > 0,
          `a producer snapshot was written at close for partition ${p}`,
        );
        await expectProduce(
          env.raw,
          11,
          topic,
          batches[p]![1]!,
          ErrorCode.NONE,
          3,
          `p${p} b after restart`,
          p,
        );
        assert.equal(await latest(env.raw, topic, p), 7, `p${p}: the retry wrote nothing`);
        await expectProduce(
          env.raw,
          11,
          topic,
          idem(pid, 0, 9, 1, 'gap'),
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          null,
          `p${p} a gap after restart (the producer is known)`,
          p,
        );
        await expectProduce(
          env.raw,
          11,
          topic,
          idem(pid, 0, 7, 1, `p${p}-c`),
          ErrorCode.NONE,
          7,
          `p${p} c`,
          p,
        );
      }
      // A second restart, with the state from the first restart's close.
      const env2 = await restart();
      await expectProduce(
        env2.raw,
        5,
        topic,
        idem(pid, 0, 7, 1, 'p0-c'),
        ErrorCode.NONE,
        7,
        'c after restart 2',
      );
      await expectProduce(env2.raw, 5, topic, idem(pid, 0, 8, 1, 'p0-d'), ErrorCode.NONE, 8, 'd');
      const seen = await fetchAll(env2.raw, topic, 0);
      assert.deepEqual(
        seen.map((r) => r.value),
        ['p0-a-0', 'p0-a-1', 'p0-a-2', 'p0-b-0', 'p0-b-1', 'p0-b-2', 'p0-b-3', 'p0-c-0', 'p0-d-0'],
        'each record once',
      );
    });
  });

  void test('SIGKILL of a broker process (flush.messages=1): the state is replayed from the log', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'samsa-idem-kill-'));
    const overrides = { 'log.flush.interval.messages': '1' };
    let child: BrokerChild | null = null;
    const clients: RawClient[] = [];
    try {
      child = await BrokerChild.start(dataDir, overrides);
      let raw = await RawClient.open(child.port);
      clients.push(raw);
      const topic = 'idem-kill';
      await createTopic(raw, topic);
      const pid = await newPid(raw);
      const a = idem(pid, 0, 0, 5, 'a');
      const b = idem(pid, 0, 5, 5, 'b');
      await expectProduce(raw, 9, topic, a, ErrorCode.NONE, 0, 'a');
      await expectProduce(raw, 9, topic, b, ErrorCode.NONE, 5, 'b');
      const idsBefore = [pid, await newPid(raw, 5)];

      raw.close();
      await child.kill();
      child = null;
      assert.deepEqual(snapshotFiles(dataDir, topic), [], 'no snapshot: the process was killed');

      child = await BrokerChild.start(dataDir, overrides);
      raw = await RawClient.open(child.port);
      clients.push(raw);
      assert.equal(await latest(raw, topic), 10, 'both batches survived the kill');
      await expectProduce(raw, 9, topic, b, ErrorCode.NONE, 5, 'b again after the kill: a duplicate');
      await expectProduce(raw, 9, topic, a, ErrorCode.NONE, 0, 'a again after the kill: a duplicate');
      assert.equal(await latest(raw, topic), 10, 'the retries wrote nothing');
      await expectProduce(
        raw,
        9,
        topic,
        idem(pid, 0, 11, 1, 'gap'),
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        null,
        'a gap after the kill',
      );
      await expectProduce(raw, 9, topic, idem(pid, 0, 10, 2, 'c'), ErrorCode.NONE, 10, 'c');
      const idAfter = await newPid(raw, 3);
      assert.ok(
        idsBefore.every((id) => idAfter > id),
        `the new id ${idAfter} is above those before the kill (${idsBefore.join(',')})`,
      );
      const seen = await fetchAll(raw, topic);
      assert.deepEqual(
        seen.map((r) => r.value),
        [...[0, 1, 2, 3, 4].map((i) => `a-${i}`), ...[0, 1, 2, 3, 4].map((i) => `b-${i}`), 'c-0', 'c-1'],
        'each record once',
      );
    } finally {
      clients.forEach((c) => c.close());
      await child?.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  void test('SIGKILL after segment rolls: the newest roll snapshot plus the active segment', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'samsa-idem-kill-roll-'));
    // Each batch is ~150 bytes: every second one rolls a segment (and snapshots the state).
    const overrides = { 'log.flush.interval.messages': '1', 'log.segment.bytes': '300' };
    let child: BrokerChild | null = null;
    const clients: RawClient[] = [];
    try {
      child = await BrokerChild.start(dataDir, overrides);
      let raw = await RawClient.open(child.port);
      clients.push(raw);
      const topic = 'idem-kill-roll';
      await createTopic(raw, topic);
      const [p1, p2] = [await newPid(raw), await newPid(raw)];
      // p2 writes once, early: it is known only through the roll snapshots.
      await expectProduce(raw, 9, topic, idem(p2, 0, 0, 2, 'q'), ErrorCode.NONE, 0, 'q of p2');
      const batches: Buffer[] = [];
      for (let k = 0; k < 7; k++) {
        batches.push(idem(p1, 0, k * 2, 2, `b${k}`));
        await expectProduce(raw, 9, topic, batches[k]!, ErrorCode.NONE, 2 + k * 2, `b${k}`);
      }
      raw.close();
      await child.kill();
      child = null;
      assert.ok(
        snapshotFiles(dataDir, topic).length >= 2,
        `roll snapshots: ${snapshotFiles(dataDir, topic).join(' ')}`,
      );

      child = await BrokerChild.start(dataDir, overrides);
      raw = await RawClient.open(child.port);
      clients.push(raw);
      assert.equal(await latest(raw, topic), 16, 'everything survived the kill');
      await expectProduce(
        raw,
        9,
        topic,
        batches[6]!,
        ErrorCode.NONE,
        14,
        'the last batch again: a duplicate',
      );
      await expectProduce(
        raw,
        9,
        topic,
        idem(p2, 0, 5, 1, 'q-gap'),
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        null,
        'p2 is still known (a gap, not UNKNOWN_PRODUCER_ID)',
      );
      await expectProduce(raw, 9, topic, idem(p2, 0, 2, 1, 'q2'), ErrorCode.NONE, 16, 'p2 goes on');
      await expectProduce(raw, 9, topic, idem(p1, 0, 14, 1, 'b7'), ErrorCode.NONE, 17, 'p1 goes on');
      assert.equal(await latest(raw, topic), 18, 'log end');
    } finally {
      clients.forEach((c) => c.close());
      await child?.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

void describe('producer.id.expiration.ms', () => {
  void test('an idle producer is forgotten: its next sequence gets UNKNOWN_PRODUCER_ID', async () => {
    await withEnv(
      { 'producer.id.expiration.ms': '200', 'producer.id.expiration.check.interval.ms': '50' },
      async ({ b, raw }) => {
        const topic = 'idem-expiry';
        await createTopic(raw, topic);
        const pid = await newPid(raw);
        const a = idem(pid, 0, 0, 2, 'a');
        await expectProduce(raw, 11, topic, a, ErrorCode.NONE, 0, 'a');
        await expectProduce(raw, 11, topic, idem(pid, 0, 2, 1, 'b'), ErrorCode.NONE, 2, 'b right after a');

        const state = b.broker.replicaManager.getPartition(topic, 0)?.log.producerState;
        assert.ok(state !== undefined, 'the partition is hosted');
        assert.ok(state.producers.has(pid), 'the producer is known');
        const started = Date.now();
        for (let i = 0; i < 100 && state.producers.has(pid); i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        const waited = Date.now() - started;
        assert.ok(!state.producers.has(pid), `the producer expired (waited ${waited} ms)`);
        assert.ok(waited >= 100, `not before producer.id.expiration.ms (${waited} ms)`);

        await expectProduce(
          raw,
          11,
          topic,
          idem(pid, 0, 3, 1, 'c'),
          ErrorCode.UNKNOWN_PRODUCER_ID,
          null,
          'c after expiry',
        );
        // A retry of an expired producer's batch is no duplicate any more.
        await expectProduce(
          raw,
          11,
          topic,
          idem(pid, 0, 2, 1, 'b'),
          ErrorCode.UNKNOWN_PRODUCER_ID,
          null,
          'b again after expiry',
        );
        await expectProduce(raw, 11, topic, idem(pid, 0, 0, 1, 'restart'), ErrorCode.NONE, 3, 'seq 0 again');
        assert.equal(await latest(raw, topic), 4, 'log end');
      },
    );
  });

  void test('a producer that keeps writing is not forgotten', async () => {
    await withEnv(
      { 'producer.id.expiration.ms': '300', 'producer.id.expiration.check.interval.ms': '50' },
      async ({ raw }) => {
        const topic = 'idem-busy';
        await createTopic(raw, topic);
        const pid = await newPid(raw);
        for (let seq = 0; seq < 10; seq++) {
          await expectProduce(
            raw,
            11,
            topic,
            idem(pid, 0, seq, 1, `r${seq}`),
            ErrorCode.NONE,
            seq,
            `seq ${seq}`,
          );
          await new Promise((r) => setTimeout(r, 60));
        }
      },
    );
  });
});
