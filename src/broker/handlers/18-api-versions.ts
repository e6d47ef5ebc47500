/**
 * ApiVersions (key 18), versions 0-4. Lists exactly the APIs and versions this broker's
 * handlers serve. A request newer than served is answered by the dispatcher with a v0
 * UNSUPPORTED_VERSION response carrying the same list (the KIP-511 fallback).
 * Feature levels: metadata.version as finalized at bootstrap.
 */
import { apis } from '../../protocol/generated/api-keys.js';
import { ApiVersionsRequest } from '../../protocol/generated/message/ApiVersionsRequest.js';
import { ApiVersionsResponse } from '../../protocol/generated/message/ApiVersionsResponse.js';
import { apiVersionsList } from '../dispatch.js';
import { defineHandler } from './types.js';

export const apiVersionsHandler = defineHandler<ApiVersionsRequest, ApiVersionsResponse>({
  api: apis.ApiVersions,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx) {
    const image = ctx.broker.image();
    const features = [...image.features].map(([name, level]) => ({
      name,
      minVersionLevel: level,
      maxVersionLevel: level,
      unknownTaggedFields: undefined,
    }));
    return {
      ...ApiVersionsResponse.create(),
      apiKeys: apiVersionsList(ctx.broker.handlers),
      supportedFeatures: features.map((f) => ({
        name: f.name,
        minVersion: 1,
        maxVersion: f.maxVersionLevel,
        unknownTaggedFields: undefined,
      })),
      finalizedFeaturesEpoch: BigInt(Math.max(image.offset, 0)),
      finalizedFeatures: features,
    };
  },
});
