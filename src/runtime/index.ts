/**
 * The runtime seams: Clock, FileSystem (and later Random, Transport), each with a real
 * implementation and room for simulated ones. Storage, raft and the broker reach the outside
 * world only through these.
 */
export * from './clock.js';
export * from './fs.js';
export * from './faulty-fs.js';
export * from './random.js';
