/**
 * Kafka's Uuid as a string in Kafka's own display form: 16 bytes in URL-safe base64 without
 * padding (22 characters), as `Uuid.toString()` prints topic IDs. Strings compare and key maps directly.
 */

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
const UUID_PATTERN = /^[A-Za-z0-9_-]{21}[AQgw]$/;

export function uuidFromBytes(buf: Buffer, pos: number): string {
  return buf.toString('base64url', pos, pos + 16);
}

/** Writes a uuid string into buf at pos. Returns false when the string is not a 16-byte base64url uuid. */
export function uuidToBytes(uuid: string, buf: Buffer, pos: number): boolean {
  if (!UUID_PATTERN.test(uuid)) return false;
  const written = buf.write(uuid, pos, 16, 'base64url');
  return written === 16;
}

/** Parses the usual 8-4-4-4-12 hex form (as other clients print UUIDs) into Kafka's form. */
export function uuidFromHex(hex: string): string {
  const clean = hex.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(clean)) throw new TypeError(`not a hex uuid: ${hex}`);
  return Buffer.from(clean, 'hex').toString('base64url');
}

export function uuidToHex(uuid: string): string {
  return Buffer.from(uuid, 'base64url').toString('hex');
}
