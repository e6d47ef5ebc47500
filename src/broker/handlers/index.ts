/**
 * The handler registry: one file per API key, assembled here. ApiVersions advertises exactly
 * this list, so an API is served once its handler is added — and only then.
 */
import type { Handler } from './types.js';
import { produceHandler } from './00-produce.js';
import { fetchHandler } from './01-fetch.js';
import { metadataHandler } from './03-metadata.js';
import { apiVersionsHandler } from './18-api-versions.js';

export const HANDLERS: readonly Handler[] = [
  produceHandler,
  fetchHandler,
  metadataHandler,
  apiVersionsHandler,
] as Handler[];
