/**
 * Splits a TCP byte stream into Kafka frames (int32 size, then that many bytes). A frame that
 * arrived inside one socket chunk is handed on as a slice of it (no copy); one spread over chunks
 * is copied once into a buffer of its size, when complete. The size is checked against the limit
 * before any allocation. Used by the broker's connections and by Raft's transport.
 *
 * Hot path (one call per socket read): frames go to a callback rather than into a new array, and
 * the unread part of the first chunk is tracked by an offset rather than re-sliced, so a frame
 * costs one Buffer object.
 */

const EMPTY = Buffer.alloc(0);

export class FrameDecoder {
  private readonly maxFrameBytes: number;
  /** The setting the limit comes from, named in the error (e.g. socket.request.max.bytes). */
  private readonly limitName: string;
  /** Chunks received and not wholly consumed; the unread part of the first starts at `offset`. */
  private readonly chunks: Buffer[] = [];
  private offset = 0;
  /** Unread bytes across `chunks`. */
  private bytes = 0;
  /** Size of the frame being assembled (its prefix consumed), or -1 while its size prefix is incomplete. */
  private need = -1;

  constructor(maxFrameBytes: number, limitName = '') {
    this.maxFrameBytes = maxFrameBytes;
    this.limitName = limitName === '' ? '' : ` (${limitName})`;
  }

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.bytes;
  }

  /**
   * Adds a chunk and calls `onFrame` with every frame it completes (size prefix removed), in
   * order. Returns null, or the reason to close the connection (a frame size outside the limit;
   * the frames before it were handed on).
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): string | null {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    for (;;) {
      if (this.need < 0) {
        if (this.bytes < 4) return null;
        const size = this.readSize();
        if (size < 0 || size > this.maxFrameBytes) {
          return `frame of ${size} bytes is outside the limit of ${this.maxFrameBytes}${this.limitName}`;
        }
        this.need = size;
      }
      if (this.bytes < this.need) return null;
      const n = this.need;
      this.need = -1;
      onFrame(this.take(n));
    }
  }

  /** Reads and consumes the 4-byte size prefix (at least 4 bytes are buffered). */
  private readSize(): number {
    const first = this.chunks[0]!;
    if (first.length - this.offset >= 4) {
      const size = first.readInt32BE(this.offset);
      this.bytes -= 4;
      this.consumed(first, 4);
      return size;
    }
    return this.take(4).readInt32BE(0);
  }

  /** Removes and returns the next `n` bytes (at least `n` are buffered). */
  private take(n: number): Buffer {
    if (n === 0) return EMPTY; // a frame of size 0 (malformed, refused by the caller): maybe no chunk left
    this.bytes -= n;
    const first = this.chunks[0]!;
    if (first.length - this.offset >= n) {
      const out = first.subarray(this.offset, this.offset + n);
      this.consumed(first, n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    while (copied < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length - this.offset, n - copied);
      c.copy(out, copied, this.offset, this.offset + k);
      copied += k;
      this.consumed(c, k);
    }
    return out;
  }

  /** `k` more bytes of the first chunk `c` were read. */
  private consumed(c: Buffer, k: number): void {
    this.offset += k;
    if (this.offset === c.length) {
      this.chunks.shift();
      this.offset = 0;
    }
  }
}
