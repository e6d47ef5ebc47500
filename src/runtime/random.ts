/** The Random seam: randomness the broker uses (topic ids, incarnation ids), injectable for simulation. */
import { randomBytes } from 'node:crypto';

export interface Random {
  bytes(n: number): Buffer;
}

export const cryptoRandom: Random = { bytes: (n) => randomBytes(n) };
