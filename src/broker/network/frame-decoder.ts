/**
 * Splits a TCP byte stream into Kafka frames (int32 size, then that many bytes). A frame that
 * arrived inside one socket chunk is returned as a slice of it (no copy); one spread over chunks
 * is joined once, when complete. The size is checked against the limit before any allocation.
 */

export type FrameResult = { frames: Buffer[]; error: null } | { frames: Buffer[]; error: string };

export class FrameDecoder {
  private readonly maxFrameBytes: number;
  private chunks: Buffer[] = [];
  private bytes = 0;
  /** Size of the frame being assembled, or -1 while its size prefix is incomplete. */
  private need = -1;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.bytes;
  }

  push(chunk: Buffer): FrameResult {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.bytes < 4) break;
        const size = this.peekInt32();
        if (size < 0 || size > this.maxFrameBytes) {
          return {
            frames,
            error: `frame of ${size} bytes is outside the limit of ${this.maxFrameBytes} (socket.request.max.bytes)`,
          };
        }
        this.need = size;
      }
      if (this.bytes < 4 + this.need) break;
      frames.push(this.take(4 + this.need).subarray(4));
      this.need = -1;
    }
    return { frames, error: null };
  }

  private peekInt32(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    const head = Buffer.allocUnsafe(4);
    let got = 0;
    for (const c of this.chunks) {
      const n = Math.min(4 - got, c.length);
      c.copy(head, got, 0, n);
      got += n;
      if (got === 4) break;
    }
    return head.readInt32BE(0);
  }

  /** Removes and returns the next `n` bytes. */
  private take(n: number): Buffer {
    this.bytes -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return out;
    }
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const c = this.chunks[0]!;
      if (c.length <= left) {
        parts.push(c);
        this.chunks.shift();
        left -= c.length;
      } else {
        parts.push(c.subarray(0, left));
        this.chunks[0] = c.subarray(left);
        left = 0;
      }
    }
    return Buffer.concat(parts, n);
  }
}
