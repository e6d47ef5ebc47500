/** Request and response frames: size prefix, header versions, client id, and decoding failures. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  encodeRequestFrame,
  encodeResponseFrame,
  peekRequest,
} from '../../src/protocol/frame.js';
import { encodeMessage } from '../../src/protocol/message.js';
import { DecodeError, EncodeError } from '../../src/protocol/primitives/errors.js';
import {
  ApiKey,
  apiByKey,
  apis,
  requestHeaderVersion,
  responseHeaderVersion,
  type ApiDefinition,
} from '../../src/protocol/generated/api-keys.js';
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
  ControlledShutdownRequest,
  MetadataRequest,
  ProduceRequest,
  RequestHeader,
} from '../../src/protocol/generated/index.js';
import { caseSeed, randomMessage, Rng, show } from './support/random-message.js';

const apiList = Object.values(apis) as ApiDefinition[];
const SEED = 0xf4a3e;

/** A frame as one buffer, size prefix included. */
function requestFrame<T>(
  codec: Parameters<typeof encodeRequestFrame<T>>[0],
  body: T,
  apiVersion: number,
  clientId: string | null = 'samsa',
  correlationId = 0x01020304,
): Buffer {
  return Buffer.concat(encodeRequestFrame(codec, body, { apiVersion, correlationId, clientId }));
}

/** Bytes of a request header as Kafka lays it out, written by hand. */
function expectedRequestHeader(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  headerVersion: number,
): Buffer {
  const parts: Buffer[] = [];
  const fixed = Buffer.alloc(8);
  fixed.writeInt16BE(apiKey, 0);
  fixed.writeInt16BE(apiVersion, 2);
  fixed.writeInt32BE(correlationId, 4);
  parts.push(fixed);
  if (headerVersion >= 1) {
    // The client id stays a non-compact nullable string even in header v2.
    const len = Buffer.alloc(2);
    if (clientId === null) len.writeInt16BE(-1, 0);
    else len.writeInt16BE(Buffer.byteLength(clientId), 0);
    parts.push(len);
    if (clientId !== null) parts.push(Buffer.from(clientId, 'utf8'));
  }
  if (headerVersion >= 2) parts.push(Buffer.from([0])); // no tagged fields
  return Buffer.concat(parts);
}

void describe('header versions', () => {
  void test('request header: v0 only for ControlledShutdown v0, v2 from the first flexible version, else v1', () => {
    for (const api of apiList) {
      for (let v = api.minVersion; v <= api.maxVersion; v++) {
        const expected =
          api.flexibleMinVersion !== null && v >= api.flexibleMinVersion
            ? 2
            : api.apiKey === ApiKey.ControlledShutdown && v === 0
              ? 0
              : 1;
        assert.equal(requestHeaderVersion(api.apiKey, v), expected, `${api.name} v${v}`);
      }
    }
    assert.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 0), 0);
    assert.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 1), 1);
    assert.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 3), 2);
    assert.equal(requestHeaderVersion(ApiKey.Metadata, 8), 1);
    assert.equal(requestHeaderVersion(ApiKey.Metadata, 9), 2);
  });

  void test('response header: v1 from the first flexible version, else v0; ApiVersions always v0', () => {
    for (const api of apiList) {
      for (let v = api.minVersion; v <= api.maxVersion; v++) {
        const flexible = api.flexibleMinVersion !== null && v >= api.flexibleMinVersion;
        const expected = api.apiKey === ApiKey.ApiVersions ? 0 : flexible ? 1 : 0;
        assert.equal(responseHeaderVersion(api.apiKey, v), expected, `${api.name} v${v}`);
      }
    }
    assert.equal(apis.ApiVersions.flexibleMinVersion, 3);
    assert.equal(responseHeaderVersion(ApiKey.ApiVersions, 3), 0);
    assert.equal(responseHeaderVersion(ApiKey.ApiVersions, 4), 0);
  });
});

void describe('request frames', () => {
  void test('ControlledShutdown v0 uses header v0: no client id', () => {
    const body: ControlledShutdownRequest = { brokerId: 3, brokerEpoch: -1n, unknownTaggedFields: undefined };
    const frame = requestFrame(ControlledShutdownRequest, body, 0, 'ignored-in-v0', 42);
    assert.equal(frame.toString('hex'), '0000000c' + '0007' + '0000' + '0000002a' + '00000003');
    const d = decodeRequest(frame.subarray(4));
    assert.ok(d.ok, d.ok ? '' : d.error.message);
    assert.equal(d.value.header.clientId, '', 'v0 has no client id: it reads as the default');
    assert.equal(d.value.header.correlationId, 42);
    assert.deepStrictEqual(d.value.body, body);
    const h = decodeRequestHeader(frame.subarray(4));
    assert.ok(h.ok);
    assert.equal(h.value.headerVersion, 0);
    assert.equal(h.value.bodyStart, 8);
  });

  void test('ControlledShutdown v1 uses header v1 and v3 header v2', () => {
    // BrokerEpoch arrives in v2: v1 must leave it at its default (-1).
    const v1 = requestFrame(
      ControlledShutdownRequest,
      { brokerId: 3, brokerEpoch: -1n, unknownTaggedFields: undefined },
      1,
      'c',
      1,
    );
    assert.equal(v1.toString('hex'), '0000000f' + '0007' + '0001' + '00000001' + '000163' + '00000003');
    const v3 = requestFrame(
      ControlledShutdownRequest,
      { brokerId: 3, brokerEpoch: 9n, unknownTaggedFields: undefined },
      3,
      'c',
      1,
    );
    assert.equal(
      v3.toString('hex'),
      '00000019' + '0007' + '0003' + '00000001' + '000163' + '00' + '00000003' + '0000000000000009' + '00',
    );
  });

  void test('every API and version: size prefix, header bytes, body bytes, and decodeRequest gives them back', () => {
    const rng = new Rng(caseSeed(SEED, 'frames'));
    for (const api of apiList) {
      for (let version = api.minVersion; version <= api.maxVersion; version++) {
        const where = `${api.name} v${version}`;
        const body = randomMessage(api.request, version, rng, { large: 0 });
        const clientId = rng.pick([null, '', 'client-1', 'klient-é-😀']);
        const correlationId = rng.int(-(2 ** 31), 2 ** 31 - 1);
        const frame = requestFrame(api.request, body, version, clientId, correlationId);
        const hv = requestHeaderVersion(api.apiKey, version);
        // Size prefix: the bytes that follow it.
        assert.equal(frame.readInt32BE(0), frame.length - 4, where);
        const header = expectedRequestHeader(api.apiKey, version, correlationId, clientId, hv);
        assert.equal(
          frame.subarray(4, 4 + header.length).toString('hex'),
          header.toString('hex'),
          `${where}: header v${hv}`,
        );
        assert.ok(
          frame.subarray(4 + header.length).equals(encodeMessage(api.request, body, version)),
          `${where}: body`,
        );

        const d = decodeRequest(frame.subarray(4));
        assert.ok(d.ok, `${where}: ${d.ok ? '' : d.error.message}`);
        assert.equal(d.end, frame.length - 4, where);
        assert.equal(d.value.codec, api.request, where);
        assert.deepStrictEqual(
          d.value.header,
          {
            requestApiKey: api.apiKey,
            requestApiVersion: version,
            correlationId,
            clientId: hv === 0 ? '' : clientId,
            unknownTaggedFields: undefined,
          },
          where,
        );
        assert.deepStrictEqual(d.value.body, body, `${where}: ${show(body)}`);
        assert.deepStrictEqual(peekRequest(frame.subarray(4)), {
          apiKey: api.apiKey,
          apiVersion: version,
          correlationId,
        });
      }
    }
  });

  void test('a null client id is int16 -1 and decodes as null', () => {
    const frame = requestFrame(MetadataRequest, MetadataRequest.create(), 4, null, 5);
    assert.equal(frame.subarray(12, 14).toString('hex'), 'ffff');
    const d = decodeRequest(frame.subarray(4));
    assert.ok(d.ok);
    assert.equal(d.value.header.clientId, null);
    // Same in a flexible version (header v2 keeps the non-compact string).
    const flex = requestFrame(MetadataRequest, MetadataRequest.create(), 12, null, 5);
    assert.equal(flex.subarray(12, 15).toString('hex'), 'ffff00');
    const df = decodeRequest(flex.subarray(4));
    assert.ok(df.ok);
    assert.equal(df.value.header.clientId, null);
  });

  void test('unknown tagged fields in a v2 request header are kept', () => {
    const header: RequestHeader = {
      requestApiKey: ApiKey.ApiVersions,
      requestApiVersion: 3,
      correlationId: 77,
      clientId: 'c',
      unknownTaggedFields: [{ tag: 3, data: Buffer.from([1, 2]) }],
    };
    const body: ApiVersionsRequest = {
      clientSoftwareName: 'x',
      clientSoftwareVersion: '1',
      unknownTaggedFields: undefined,
    };
    const frame = Buffer.concat([
      encodeMessage(RequestHeader, header, 2),
      encodeMessage(ApiVersionsRequest, body, 3),
    ]);
    const d = decodeRequest(frame);
    assert.ok(d.ok, d.ok ? '' : d.error.message);
    assert.deepStrictEqual(d.value.header, header);
    assert.deepStrictEqual(d.value.body, body);
  });

  void test('large record sets stay zero-copy in a request frame', () => {
    const records = Buffer.alloc(2048, 5);
    const body: ProduceRequest = {
      transactionalId: null,
      acks: -1,
      timeoutMs: 1000,
      topicData: [
        {
          name: 't',
          partitionData: [{ index: 0, records, unknownTaggedFields: undefined }],
          unknownTaggedFields: undefined,
        },
      ],
      unknownTaggedFields: undefined,
    };
    for (const version of [3, 9, 11]) {
      const chunks = encodeRequestFrame(ProduceRequest, body, {
        apiVersion: version,
        correlationId: 1,
        clientId: 'p',
      });
      assert.ok(
        chunks.some((c) => c === records),
        `v${version}`,
      );
      const frame = Buffer.concat(chunks);
      assert.equal(frame.readInt32BE(0), frame.length - 4);
      const d = decodeRequest(frame.subarray(4));
      assert.ok(d.ok);
      assert.deepStrictEqual(d.value.body, body);
    }
  });

  void test('encodeRequestFrame refuses a non-request codec and a version out of range', () => {
    assert.throws(
      () =>
        encodeRequestFrame(RequestHeader, RequestHeader.create(), {
          apiVersion: 0,
          correlationId: 0,
          clientId: null,
        }),
      EncodeError,
    );
    assert.throws(
      () =>
        encodeRequestFrame(MetadataRequest, MetadataRequest.create(), {
          apiVersion: MetadataRequest.maxVersion + 1,
          correlationId: 0,
          clientId: null,
        }),
      EncodeError,
    );
    assert.throws(
      () =>
        encodeRequestFrame(MetadataRequest, MetadataRequest.create(), {
          apiVersion: -1,
          correlationId: 0,
          clientId: null,
        }),
      EncodeError,
    );
  });
});

void describe('decoding bad request frames', () => {
  const valid = requestFrame(MetadataRequest, MetadataRequest.create(), 9, 'abc', 9).subarray(4);

  void test('an unknown api key is a DecodeError', () => {
    for (const key of [-1, 1000, 0x7fff, Math.max(...apiList.map((a) => a.apiKey)) + 1]) {
      assert.equal(apiByKey(key), undefined);
      const frame = Buffer.from(valid);
      frame.writeInt16BE(key, 0);
      const d = decodeRequest(frame);
      assert.equal(d.ok, false, `key ${key}`);
      if (!d.ok) {
        assert.ok(d.error instanceof DecodeError);
        assert.match(d.error.message, new RegExp(`unknown api key ${key}`));
      }
      // The peek still reads it: a broker answers unknown keys by closing or with an error.
      assert.equal(peekRequest(frame)?.apiKey, key);
    }
  });

  void test('a version outside the API range is a DecodeError', () => {
    for (const v of [-1, MetadataRequest.maxVersion + 1, 0x7fff]) {
      const frame = Buffer.from(valid);
      frame.writeInt16BE(v, 2);
      const d = decodeRequest(frame);
      assert.equal(d.ok, false, `version ${v}`);
      if (!d.ok) assert.ok(d.error instanceof DecodeError);
    }
  });

  void test('frames shorter than a header, and truncated frames, are DecodeErrors', () => {
    for (let len = 0; len < 8; len++) {
      const d = decodeRequest(valid.subarray(0, len));
      assert.equal(d.ok, false);
      if (!d.ok) assert.match(d.error.message, /shorter than a header/);
      assert.equal(peekRequest(valid.subarray(0, len)), null);
    }
    for (let len = 8; len < valid.length; len++) {
      const d = decodeRequest(valid.subarray(0, len));
      assert.equal(d.ok, false, `truncated to ${len} of ${valid.length}`);
      if (!d.ok) assert.ok(d.error instanceof DecodeError);
    }
    assert.ok(decodeRequest(valid).ok);
  });

  void test('a client id longer than the frame is a DecodeError', () => {
    const frame = Buffer.from(valid);
    frame.writeInt16BE(0x7fff, 8);
    const d = decodeRequest(frame);
    assert.equal(d.ok, false);
  });

  void test('extra bytes after the body are left for the caller: end says where the body stopped', () => {
    const frame = Buffer.concat([valid, Buffer.from([1, 2, 3])]);
    const d = decodeRequest(frame);
    assert.ok(d.ok);
    assert.equal(d.end, valid.length);
  });

  void test('peekRequest reads key, version and correlation id from any 8+ bytes', () => {
    assert.deepStrictEqual(peekRequest(Buffer.from('ffff8000800000010000', 'hex')), {
      apiKey: -1,
      apiVersion: -32768,
      correlationId: -0x7fffffff,
    });
    assert.deepStrictEqual(peekRequest(Buffer.from('0012000300000007', 'hex')), {
      apiKey: 18,
      apiVersion: 3,
      correlationId: 7,
    });
    assert.equal(peekRequest(Buffer.alloc(7)), null);
  });
});

void describe('response frames', () => {
  void test('every API and version: response header v0 or v1, and decodeResponse gives the body back', () => {
    const rng = new Rng(caseSeed(SEED, 'responses'));
    for (const api of apiList) {
      for (let version = api.minVersion; version <= api.maxVersion; version++) {
        const where = `${api.name} v${version}`;
        const body = randomMessage(api.response, version, rng, { large: 0 });
        const correlationId = rng.int(-(2 ** 31), 2 ** 31 - 1);
        const frame = Buffer.concat(
          encodeResponseFrame(api.response, body, { apiKey: api.apiKey, apiVersion: version, correlationId }),
        );
        const hv = responseHeaderVersion(api.apiKey, version);
        const headerLen = hv === 0 ? 4 : 5;
        assert.equal(frame.readInt32BE(0), frame.length - 4, where);
        assert.equal(frame.readInt32BE(4), correlationId, where);
        if (hv === 1) assert.equal(frame[8], 0, `${where}: empty tagged fields of header v1`);
        assert.ok(
          frame.subarray(4 + headerLen).equals(encodeMessage(api.response, body, version)),
          `${where}: body`,
        );
        const d = decodeResponse(api.response, frame.subarray(4), version);
        assert.ok(d.ok, `${where}: ${d.ok ? '' : d.error.message}`);
        assert.equal(d.end, frame.length - 4);
        assert.equal(d.value.correlationId, correlationId);
        assert.deepStrictEqual(d.value.body, body, where);
      }
    }
  });

  void test('ApiVersions responses use header v0 even in flexible versions (no tagged-field byte)', () => {
    for (let version = ApiVersionsResponse.minVersion; version <= ApiVersionsResponse.maxVersion; version++) {
      const body = ApiVersionsResponse.create();
      body.errorCode = 35;
      const frame = Buffer.concat(
        encodeResponseFrame(ApiVersionsResponse, body, {
          apiKey: ApiKey.ApiVersions,
          apiVersion: version,
          correlationId: 0x0a0b0c0d,
        }),
      );
      // size, correlation id, then the body's error code right away.
      assert.equal(frame.subarray(4, 10).toString('hex'), '0a0b0c0d0023', `v${version}`);
      const d = decodeResponse(ApiVersionsResponse, frame.subarray(4), version);
      assert.ok(d.ok);
      assert.equal(d.value.body.errorCode, 35);
    }
  });

  void test('a flexible response (Metadata v9+) carries the header tagged-field byte; v8 does not', () => {
    const body = apis.Metadata.response.create();
    const v8 = Buffer.concat(
      encodeResponseFrame(apis.Metadata.response, body, {
        apiKey: ApiKey.Metadata,
        apiVersion: 8,
        correlationId: 1,
      }),
    );
    const v9 = Buffer.concat(
      encodeResponseFrame(apis.Metadata.response, body, {
        apiKey: ApiKey.Metadata,
        apiVersion: 9,
        correlationId: 1,
      }),
    );
    assert.ok(v8.subarray(8).equals(encodeMessage(apis.Metadata.response, body, 8)));
    assert.equal(v9[8], 0);
    assert.ok(v9.subarray(9).equals(encodeMessage(apis.Metadata.response, body, 9)));
  });

  void test('encodeResponseFrame refuses a version out of range, as encodeRequestFrame does', () => {
    const body = apis.Metadata.response.create();
    assert.throws(
      () =>
        encodeResponseFrame(apis.Metadata.response, body, {
          apiKey: ApiKey.Metadata,
          apiVersion: 99,
          correlationId: 1,
        }),
      EncodeError,
    );
  });

  void test('encodeResponseFrame refuses a codec of another api key', () => {
    assert.throws(
      () =>
        encodeResponseFrame(apis.Metadata.response, apis.Metadata.response.create(), {
          apiKey: ApiKey.Produce,
          apiVersion: 9,
          correlationId: 1,
        }),
      EncodeError,
    );
  });

  void test('decodeResponse of a short or truncated frame is a DecodeError', () => {
    const body = ApiVersionsResponse.create();
    const frame = Buffer.concat(
      encodeResponseFrame(ApiVersionsResponse, body, {
        apiKey: ApiKey.ApiVersions,
        apiVersion: 3,
        correlationId: 1,
      }),
    ).subarray(4);
    for (let len = 0; len < frame.length; len++) {
      const d = decodeResponse(ApiVersionsResponse, frame.subarray(0, len), 3);
      assert.equal(d.ok, false, `truncated to ${len}`);
      if (!d.ok) assert.ok(d.error instanceof DecodeError);
    }
  });
});
