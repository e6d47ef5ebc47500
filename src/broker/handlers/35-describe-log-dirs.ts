/**
 * DescribeLogDirs (key 35), versions 0-4.
 *
 * Every configured log folder (log.dirs, as an absolute path) with the partitions it holds —
 * all of them when the request's topics are null, else those asked for — and each partition's
 * size in bytes (all its segments). offsetLag is 0 and isFutureKey false: there are no future
 * replicas (no AlterReplicaLogDirs moves). From v4, the file system's total and usable bytes
 * (statfs), -1 each when the system cannot tell. Partitions asked for but not held are left
 * out, as in Kafka. Authorization is not tracked (no ACLs): the top-level error (v3+) is NONE.
 */
import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { DescribeLogDirsRequest } from '../../protocol/generated/message/DescribeLogDirsRequest.js';
import { DescribeLogDirsResponse } from '../../protocol/generated/message/DescribeLogDirsResponse.js';
import type { PartitionLog } from '../../storage/log.js';
import { defineHandler } from './types.js';

/** Total and usable bytes of the file system holding `dir`; -1 each when unknown. */
async function space(dir: string): Promise<{ totalBytes: bigint; usableBytes: bigint }> {
  try {
    const s = await statfs(dir, { bigint: true });
    return { totalBytes: s.blocks * s.bsize, usableBytes: s.bavail * s.bsize };
  } catch {
    return { totalBytes: -1n, usableBytes: -1n };
  }
}

/** Whether the request asks about this partition (null topics: every partition). */
function wanted(
  asked: ReadonlyMap<string, ReadonlySet<number>> | null,
  topic: string,
  partition: number,
): boolean {
  return asked === null || (asked.get(topic)?.has(partition) ?? false);
}

function describeDir(
  logs: readonly PartitionLog[],
  asked: ReadonlyMap<string, ReadonlySet<number>> | null,
): DescribeLogDirsResponse.DescribeLogDirsTopic[] {
  const byTopic = new Map<string, DescribeLogDirsResponse.DescribeLogDirsPartition[]>();
  for (const log of logs) {
    const { topic, partition } = log.topicPartition;
    if (!wanted(asked, topic, partition)) continue;
    let partitions = byTopic.get(topic);
    if (partitions === undefined) byTopic.set(topic, (partitions = []));
    partitions.push({
      partitionIndex: partition,
      partitionSize: BigInt(log.sizeBytes),
      offsetLag: 0n,
      isFutureKey: false,
      unknownTaggedFields: undefined,
    });
  }
  return [...byTopic.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, partitions]) => ({
      name,
      partitions: partitions.sort((a, b) => a.partitionIndex - b.partitionIndex),
      unknownTaggedFields: undefined,
    }));
}

export const describeLogDirsHandler = defineHandler<DescribeLogDirsRequest, DescribeLogDirsResponse>({
  api: apis.DescribeLogDirs,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, req) {
    let asked: Map<string, Set<number>> | null = null;
    if (req.topics !== null) {
      asked = new Map();
      for (const t of req.topics) {
        const set = asked.get(t.topic) ?? new Set<number>();
        for (const p of t.partitions) set.add(p);
        asked.set(t.topic, set);
      }
    }
    const logsByDir = new Map<string, PartitionLog[]>();
    for (const log of ctx.broker.logManager.allLogs()) {
      const dir = resolve(dirname(log.dir));
      const list = logsByDir.get(dir);
      if (list === undefined) logsByDir.set(dir, [log]);
      else list.push(log);
    }
    const results = await Promise.all(
      ctx.broker.config.logDirs.map(async (configured) => {
        const dir = resolve(configured);
        const { totalBytes, usableBytes } =
          ctx.apiVersion >= 4 ? await space(dir) : { totalBytes: -1n, usableBytes: -1n };
        return {
          errorCode: ErrorCode.NONE,
          logDir: dir,
          topics: describeDir(logsByDir.get(dir) ?? [], asked),
          totalBytes,
          usableBytes,
          unknownTaggedFields: undefined,
        };
      }),
    );
    return { ...DescribeLogDirsResponse.create(), results };
  },
});
