/**
 * BrokerConnection: the ApiVersions handshake and version choice against a real broker, and the
 * faults a real broker does not produce (an old ApiVersions, silence, a wrong correlation id,
 * responses cut at odd places) against a scripted TCP server speaking Samsa's codecs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { BrokerConnection, clientMaxVersion, type ConnectionOptions } from '../../src/client/connection.js';
import { ConfigError, KafkaClientError } from '../../src/client/errors.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { apis, ApiKey } from '../../src/protocol/generated/api-keys.js';
import type { MetadataRequest } from '../../src/protocol/generated/message/MetadataRequest.js';
import type { MetadataResponse } from '../../src/protocol/generated/message/MetadataResponse.js';
import {
  apiVersionsBody,
  respond,
  ScriptedServer,
  startTestBroker,
  type Received,
  type TestBroker,
} from './support.js';

const OPTIONS: ConnectionOptions = {
  clientId: 'conn-test',
  connectTimeoutMs: 2000,
  requestTimeoutMs: 5000,
  maxInFlightRequests: 5,
};

const METADATA_ALL: MetadataRequest = {
  topics: null,
  allowAutoTopicCreation: false,
  includeClusterAuthorizedOperations: false,
  includeTopicAuthorizedOperations: false,
};

// ------------------------------------------------------------------ scripted server

function emptyMetadata(): MetadataResponse {
  return { ...apis.Metadata.response.create(), clusterId: 'scripted', controllerId: 7 };
}

/** A well-behaved handshake: ApiVersions 0-4 and Metadata 0-12. */
function answerHandshake(r: Received): boolean {
  if (r.header.requestApiKey !== ApiKey.ApiVersions) return false;
  r.socket.write(
    respond(
      r,
      apis.ApiVersions.response,
      apiVersionsBody(ErrorCode.NONE, [
        [ApiKey.ApiVersions, 0, 4],
        [ApiKey.Metadata, 0, 12],
      ]),
    ),
  );
  return true;
}

async function rejection(p: Promise<unknown>): Promise<KafkaClientError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof KafkaClientError, `a KafkaClientError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// ------------------------------------------------------------------ tests

void describe('BrokerConnection against a real broker', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker({ 'num.partitions': '1' });
  });
  after(async () => {
    await broker.stop();
  });

  void test('the handshake negotiates versions from the broker list and the generated codecs', async () => {
    const conn = await BrokerConnection.open('127.0.0.1', broker.port, OPTIONS);
    try {
      assert.equal(conn.nodeId, -1);
      assert.equal(conn.address, `127.0.0.1:${broker.port}`);
      assert.equal(conn.version(ApiKey.Metadata), 12);
      assert.equal(conn.version(ApiKey.Metadata, 5), 5);
      assert.equal(conn.version(ApiKey.Fetch), 17);
      assert.equal(conn.version(ApiKey.Fetch, 3), -1, 'Samsa serves Fetch from v4 only');
      assert.equal(conn.version(ApiKey.CreateDelegationToken), -1, 'an API the broker does not serve');
      assert.equal(conn.version(9999), -1, 'an API nobody knows');
      const unstable = apis.ConsumerGroupHeartbeat;
      assert.equal(
        clientMaxVersion(unstable.apiKey),
        unstable.maxVersion - 1,
        'unstable latest version excluded',
      );
      const metadata = await conn.send(apis.Metadata, conn.version(ApiKey.Metadata), METADATA_ALL);
      assert.equal(metadata.brokers.length, 1);
      assert.equal(metadata.brokers[0]!.port, broker.port);
    } finally {
      conn.close();
    }
  });

  void test('concurrent requests resolve with their own responses', async () => {
    const conn = await BrokerConnection.open('127.0.0.1', broker.port, {
      ...OPTIONS,
      maxInFlightRequests: 2,
    });
    try {
      const versions = [0, 1, 4, 9, 12];
      const results = await Promise.all(
        versions.map((v) =>
          conn.send(apis.Metadata, v, {
            ...METADATA_ALL,
            // v0 has no null topics (empty means all); before v4 auto-creation cannot be turned off.
            topics: v === 0 ? [] : null,
            allowAutoTopicCreation: v < 4,
          }),
        ),
      );
      for (const r of results) assert.equal(r.brokers[0]!.nodeId, 1);
      assert.equal(results[4]!.clusterId !== null, true, 'v12 carries the cluster id');
      assert.equal(results[0]!.clusterId, null, 'v0 has no cluster id');
      assert.ok(conn.maxObservedInFlight <= 2, `in flight never above 2 (saw ${conn.maxObservedInFlight})`);
    } finally {
      conn.close();
    }
  });

  void test('an encode error rejects the call and leaves the connection usable', async () => {
    const conn = await BrokerConnection.open('127.0.0.1', broker.port, OPTIONS);
    try {
      await assert.rejects(conn.send(apis.Metadata, 99, METADATA_ALL), /version 99/);
      assert.equal(conn.closed, false);
      const r = await conn.send(apis.Metadata, 12, METADATA_ALL);
      assert.equal(r.brokers.length, 1);
    } finally {
      conn.close();
    }
  });

  void test('close rejects pending requests with a retriable CONNECTION_CLOSED', async () => {
    const conn = await BrokerConnection.open('127.0.0.1', broker.port, OPTIONS);
    const pending = conn.send(apis.Metadata, 12, METADATA_ALL);
    conn.close();
    const e = await rejection(pending);
    assert.equal(e.errorName, 'CONNECTION_CLOSED');
    assert.equal(e.code, -1);
    assert.equal(e.retriable, true);
    assert.equal(conn.closed, true);
    const later = await rejection(conn.send(apis.Metadata, 12, METADATA_ALL));
    assert.equal(later.errorName, 'CONNECTION_CLOSED');
    assert.throws(() => conn.sendOneWay(apis.Metadata.request, 12, METADATA_ALL), /closed/);
  });

  void test('a refused connection names the address', async () => {
    const server = await ScriptedServer.start();
    const port = server.port;
    await server.stop();
    const e = await rejection(BrokerConnection.open('127.0.0.1', port, OPTIONS));
    assert.equal(e.errorName, 'CONNECTION_FAILED');
    assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.equal(e.retriable, true);
  });

  void test('bad options are refused naming the option', async () => {
    await assert.rejects(
      BrokerConnection.open('127.0.0.1', broker.port, { ...OPTIONS, maxInFlightRequests: 0 }),
      (e: unknown) => e instanceof ConfigError && /maxInFlightRequests.*0/.test(e.message),
    );
  });
});

void describe('BrokerConnection against a scripted server', () => {
  let server: ScriptedServer;
  before(async () => {
    server = await ScriptedServer.start();
  });
  after(async () => {
    await server.stop();
  });

  void test('UNSUPPORTED_VERSION in v0 format makes the client retry at the broker ApiVersions version', async () => {
    server.requests.length = 0;
    server.onRequest = (r) => {
      if (r.header.requestApiKey !== ApiKey.ApiVersions) return;
      if (r.header.requestApiVersion > 2) {
        // What a broker that serves ApiVersions 0-2 answers (KIP-511): v0 format, its own list.
        const body = apiVersionsBody(ErrorCode.UNSUPPORTED_VERSION, [
          [ApiKey.ApiVersions, 0, 2],
          [ApiKey.Metadata, 0, 8],
        ]);
        r.socket.write(respond(r, apis.ApiVersions.response, body, 0));
        return;
      }
      const body = apiVersionsBody(ErrorCode.NONE, [
        [ApiKey.ApiVersions, 0, 2],
        [ApiKey.Metadata, 1, 8],
      ]);
      r.socket.write(respond(r, apis.ApiVersions.response, body));
    };
    const conn = await BrokerConnection.open('127.0.0.1', server.port, OPTIONS);
    try {
      assert.deepEqual(
        server.requests.map((r) => r.header.requestApiVersion),
        [4, 2],
      );
      assert.deepEqual(server.requests[0]!.body, {
        clientSoftwareName: 'samsa',
        clientSoftwareVersion: '0.1.0',
        unknownTaggedFields: undefined,
      });
      assert.equal(conn.version(ApiKey.Metadata), 8);
      assert.equal(conn.version(ApiKey.Metadata, 0), -1, 'broker minimum is 1');
      assert.equal(conn.version(ApiKey.ApiVersions), 2);
    } finally {
      conn.close();
    }
  });

  void test('UNSUPPORTED_VERSION without an ApiVersions entry falls back to v0', async () => {
    server.requests.length = 0;
    server.onRequest = (r) => {
      if (r.header.requestApiVersion > 0) {
        r.socket.write(
          respond(r, apis.ApiVersions.response, apiVersionsBody(ErrorCode.UNSUPPORTED_VERSION, []), 0),
        );
        return;
      }
      r.socket.write(
        respond(r, apis.ApiVersions.response, apiVersionsBody(ErrorCode.NONE, [[ApiKey.Metadata, 0, 3]])),
      );
    };
    const conn = await BrokerConnection.open('127.0.0.1', server.port, OPTIONS);
    try {
      assert.deepEqual(
        server.requests.map((r) => r.header.requestApiVersion),
        [4, 0],
      );
      assert.equal(conn.version(ApiKey.Metadata), 3);
    } finally {
      conn.close();
    }
  });

  void test('another ApiVersions error fails the open with that error', async () => {
    server.onRequest = (r) => {
      r.socket.write(
        respond(r, apis.ApiVersions.response, apiVersionsBody(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, [])),
      );
    };
    const e = await rejection(BrokerConnection.open('127.0.0.1', server.port, OPTIONS));
    assert.equal(e.errorName, 'CLUSTER_AUTHORIZATION_FAILED');
    assert.equal(e.code, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  });

  void test('maxInFlightRequests bounds the requests the server sees unanswered; the rest queue', async () => {
    server.requests.length = 0;
    let outstanding = 0;
    let maxOutstanding = 0;
    const held: Received[] = [];
    server.onRequest = (r) => {
      if (answerHandshake(r)) return;
      outstanding++;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      held.push(r);
    };
    const conn = await BrokerConnection.open('127.0.0.1', server.port, {
      ...OPTIONS,
      maxInFlightRequests: 2,
    });
    try {
      const sends = Array.from({ length: 6 }, () => conn.send(apis.Metadata, 12, METADATA_ALL));
      for (let answered = 0; answered < 6; answered++) {
        await waitFor('a held request', () => held.length > 0);
        // Give the client the chance to (wrongly) send more before answering.
        await new Promise((r) => setTimeout(r, 20));
        assert.ok(outstanding <= 2, `at most 2 unanswered at the server, saw ${outstanding}`);
        if (answered < 4) assert.equal(conn.queuedCount, 4 - answered, 'the rest wait in the queue');
        const r = held.shift()!;
        outstanding--;
        r.socket.write(respond(r, apis.Metadata.response, emptyMetadata()));
      }
      const results = await Promise.all(sends);
      assert.equal(results.length, 6);
      assert.equal(maxOutstanding, 2);
      assert.equal(conn.maxObservedInFlight, 2);
      const ids = server.requests.slice(1).map((r) => r.header.correlationId);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
        'correlation ids increase in send order',
      );
      assert.equal(new Set(ids).size, 6, 'correlation ids are unique');
      assert.equal(server.requests[1]!.header.clientId, 'conn-test');
    } finally {
      conn.close();
    }
  });

  void test('a request without an answer times out, closes the connection and fails the others', async () => {
    server.onRequest = (r) => void answerHandshake(r);
    const conn = await BrokerConnection.open('127.0.0.1', server.port, { ...OPTIONS, requestTimeoutMs: 150 });
    const started = Date.now();
    const first = rejection(conn.send(apis.Metadata, 12, METADATA_ALL));
    const second = rejection(conn.send(apis.Metadata, 12, METADATA_ALL, { timeoutMs: 5000 }));
    const e = await first;
    assert.equal(e.errorName, 'REQUEST_TIMED_OUT');
    assert.equal(e.retriable, true);
    assert.match(e.message, /MetadataRequest.*150 ms/);
    assert.ok(Date.now() - started >= 140, 'not before the timeout');
    const e2 = await second;
    assert.equal(e2.errorName, 'CONNECTION_CLOSED');
    assert.equal(conn.closed, true);
  });

  void test('a per-request timeout overrides requestTimeoutMs', async () => {
    server.onRequest = (r) => void answerHandshake(r);
    const conn = await BrokerConnection.open('127.0.0.1', server.port, OPTIONS);
    const e = await rejection(conn.send(apis.Metadata, 12, METADATA_ALL, { timeoutMs: 50 }));
    assert.equal(e.errorName, 'REQUEST_TIMED_OUT');
    assert.match(e.message, /50 ms/);
  });

  void test('the server closing the socket rejects pending requests with CONNECTION_CLOSED', async () => {
    server.onRequest = (r) => {
      if (!answerHandshake(r)) r.socket.destroy();
    };
    const conn = await BrokerConnection.open('127.0.0.1', server.port, OPTIONS);
    let closedWith: KafkaClientError | null = null;
    conn.onClose((reason) => (closedWith = reason));
    const e = await rejection(conn.send(apis.Metadata, 12, METADATA_ALL));
    assert.equal(e.errorName, 'CONNECTION_CLOSED');
    assert.equal(e.retriable, true);
    assert.equal(conn.closed, true);
    assert.ok(closedWith !== null, 'close listeners are told');
  });

  void test('a response with an unexpected correlation id fails the connection', async () => {
    server.onRequest = (r) => {
      if (answerHandshake(r)) return;
      const wrong = { ...r, header: { ...r.header, correlationId: r.header.correlationId + 100 } };
      r.socket.write(respond(wrong, apis.Metadata.response, emptyMetadata()));
    };
    const conn = await BrokerConnection.open('127.0.0.1', server.port, OPTIONS);
    const e = await rejection(conn.send(apis.Metadata, 12, METADATA_ALL));
    assert.equal(e.errorName, 'PROTOCOL_ERROR');
    assert.match(e.message, /correlation id/);
    assert.equal(conn.closed, true);
  });

  void test('responses split into single bytes, and several in one chunk, are framed correctly', async () => {
    const pendingAnswers: Buffer[] = [];
    server.onRequest = (r) => {
      if (answerHandshake(r)) return;
      pendingAnswers.push(
        respond(r, apis.Metadata.response, { ...emptyMetadata(), controllerId: r.header.correlationId }),
      );
    };
    const conn = await BrokerConnection.open('127.0.0.1', server.port, OPTIONS);
    try {
      const a = conn.send(apis.Metadata, 12, METADATA_ALL);
      const b = conn.send(apis.Metadata, 12, METADATA_ALL);
      const c = conn.send(apis.Metadata, 12, METADATA_ALL);
      await waitFor('three requests', () => pendingAnswers.length === 3);
      const socket = server.requests.at(-1)!.socket;
      const first = pendingAnswers[0]!;
      for (let i = 0; i < first.length; i++) {
        socket.write(first.subarray(i, i + 1));
        await new Promise((r) => setImmediate(r));
      }
      socket.write(Buffer.concat([pendingAnswers[1]!, pendingAnswers[2]!]));
      const [ra, rb, rc] = await Promise.all([a, b, c]);
      const ids = server.requests.slice(-3).map((r) => r.header.correlationId);
      assert.deepEqual([ra.controllerId, rb.controllerId, rc.controllerId], ids);
      assert.equal(ra.clusterId, 'scripted');
    } finally {
      conn.close();
    }
  });

  void test('a response longer than a socket read, then another in the same write, are framed correctly', async () => {
    // 300 KB: past the client's 64 KiB read buffer, so the rest is read straight into its frame.
    const bigClusterId = 'c'.repeat(300_000);
    const pendingAnswers: Buffer[] = [];
    server.onRequest = (r) => {
      if (answerHandshake(r)) return;
      const clusterId = pendingAnswers.length === 0 ? bigClusterId : 'small';
      pendingAnswers.push(
        respond(r, apis.Metadata.response, {
          ...emptyMetadata(),
          clusterId,
          controllerId: r.header.correlationId,
        }),
      );
    };
    const conn = await BrokerConnection.open('127.0.0.1', server.port, OPTIONS);
    try {
      const a = conn.send(apis.Metadata, 12, METADATA_ALL);
      const b = conn.send(apis.Metadata, 12, METADATA_ALL);
      await waitFor('two requests', () => pendingAnswers.length === 2);
      const socket = server.requests.at(-1)!.socket;
      const bytes = Buffer.concat(pendingAnswers);
      // The first size prefix split after two bytes, then pieces that end inside either frame.
      const cuts = [2, 70_001, 140_003, 300_010, bytes.length - 3, bytes.length];
      let from = 0;
      for (const to of cuts) {
        socket.write(bytes.subarray(from, to));
        from = to;
        await new Promise((r) => setTimeout(r, 2));
      }
      const [ra, rb] = await Promise.all([a, b]);
      const ids = server.requests.slice(-2).map((r) => r.header.correlationId);
      assert.deepEqual([ra.controllerId, rb.controllerId], ids);
      assert.equal(ra.clusterId, bigClusterId);
      assert.equal(rb.clusterId, 'small');
    } finally {
      conn.close();
    }
  });

  void test('a response size prefix beyond the frame limit fails the connection', async () => {
    server.onRequest = (r) => {
      if (answerHandshake(r)) return;
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(0x7fffffff);
      r.socket.write(prefix);
    };
    const conn = await BrokerConnection.open('127.0.0.1', server.port, OPTIONS);
    const e = await rejection(conn.send(apis.Metadata, 12, METADATA_ALL));
    assert.equal(e.errorName, 'PROTOCOL_ERROR');
    assert.match(e.message, /frame size 2147483647 is outside/);
    assert.equal(conn.closed, true);
  });

  void test('sendOneWay writes a request and expects no answer', async () => {
    server.requests.length = 0;
    server.onRequest = (r) => {
      if (answerHandshake(r)) return;
      if (r.header.requestApiVersion === 12)
        r.socket.write(respond(r, apis.Metadata.response, emptyMetadata()));
    };
    const conn = await BrokerConnection.open('127.0.0.1', server.port, OPTIONS);
    try {
      conn.sendOneWay(apis.Metadata.request, 11, METADATA_ALL);
      assert.equal(conn.inFlightCount, 0, 'one-way requests take no in-flight slot');
      const r = await conn.send(apis.Metadata, 12, METADATA_ALL);
      assert.equal(r.clusterId, 'scripted');
      assert.deepEqual(
        server.requests.map((x) => [x.header.requestApiKey, x.header.requestApiVersion]),
        [
          [ApiKey.ApiVersions, 4],
          [ApiKey.Metadata, 11],
          [ApiKey.Metadata, 12],
        ],
      );
    } finally {
      conn.close();
    }
  });
});

void describe('BrokerConnection open timeouts', () => {
  void test('a server that accepts but never answers ApiVersions fails the open within connectTimeoutMs', async () => {
    const server = await ScriptedServer.start();
    try {
      const started = Date.now();
      const e = await rejection(
        BrokerConnection.open('127.0.0.1', server.port, { ...OPTIONS, connectTimeoutMs: 200 }),
      );
      const elapsedMs = Date.now() - started;
      assert.equal(e.errorName, 'CONNECT_TIMEOUT');
      assert.equal(e.retriable, true);
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${server.port}.*200 ms`));
      assert.ok(elapsedMs >= 190 && elapsedMs < 2000, `failed after about 200 ms (took ${elapsedMs} ms)`);
    } finally {
      await server.stop();
    }
  });
});
