/**
 * Bit-flip sampling for the RSA suites' conformance runs: a handshake with RSA private-key
 * operations costs milliseconds, and RSA blobs (moduli, ciphertexts, signatures) are hundreds of
 * bytes. Every bit outside the RSA blobs is flipped; inside a blob, every bit of its first and
 * last 2 bytes, and one bit of every 8th byte between (the bit position moving from one sampled
 * byte to the next, so every position is tried).
 */

/** A byte range [start, end) of a frame holding an RSA blob (end may be negative: from the end). */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** Spans of RSA blobs in a frame (whole wire frame: 4-byte length, type, payload). */
export type SpanFinder = (frame: Buffer) => readonly Span[];

export function sampleRsaBits(find: SpanFinder): (frameLength: number, frame: Buffer) => number[] {
  return (frameLength, frame) => {
    const spans = find(frame).map((s) => ({ start: s.start, end: s.end < 0 ? frameLength + s.end : s.end }));
    const bits: number[] = [];
    for (let byte = 0; byte < frameLength; byte++) {
      const span = spans.find((s) => byte >= s.start && byte < s.end);
      const edge = span && (byte < span.start + 2 || byte >= span.end - 2);
      if (!span || edge) for (let b = 0; b < 8; b++) bits.push(byte * 8 + b);
      else if ((byte - span.start) % 8 === 0) bits.push(byte * 8 + ((byte - span.start) / 8) % 8);
    }
    return bits;
  };
}

/** Frame offset of the payload. */
export const PAYLOAD = 5;
