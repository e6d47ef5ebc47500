/**
 * Metadata: the cluster state as metadata records in a log (the seam the Raft quorum will take
 * over), the immutable MetadataImage built from them, and the controller that writes them.
 */
export * from './records.js';
export * from './image.js';
export * from './metadata-log.js';
export * from './controller.js';
