/**
 * Record content types shared by every suite (a suite's handshake messages use 0x00–0x0f).
 * The type is authenticated with the record: in the nonce (box) or in the associated data.
 */
export const ContentType = {
  /** Application data. Seed 000 calls this message 0x10. */
  DATA: 0x10,
  /** Authenticated end of one direction (half-close); a stream that ends without it is truncated. */
  CLOSE: 0x11,
} as const;

export type ContentTypeValue = (typeof ContentType)[keyof typeof ContentType];

export function isRecordType(type: number): boolean {
  return type === ContentType.DATA || type === ContentType.CLOSE;
}
