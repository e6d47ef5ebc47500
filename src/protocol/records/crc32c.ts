/**
 * CRC-32C (Castagnoli), the checksum of magic-v2 record batches.
 *
 * The work is done by @node-rs/crc32, a native implementation that uses the CPU's CRC32
 * instructions (SSE4.2 / ARMv8), which is an order of magnitude faster than a table-driven
 * JavaScript loop. Every produced batch is checksummed on the broker's hot path.
 */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC-32C of `buf` as an unsigned 32-bit integer. */
export function crc32c(buf: Uint8Array): number {
  // The binding already returns an unsigned value; `>>> 0` makes that a guarantee of this module.
  return nativeCrc32c(buf) >>> 0;
}

/** Continues a CRC-32C over more bytes: `crc32cUpdate(crc32c(a), b) === crc32c(a ++ b)`. */
export function crc32cUpdate(crc: number, buf: Uint8Array): number {
  return nativeCrc32c(buf, crc) >>> 0;
}
