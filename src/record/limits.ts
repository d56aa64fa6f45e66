/**
 * Sizes and limits of the record layer, with their units. One place, as wireguard-go keeps its
 * constants in device/constants.go.
 */

/** Largest plaintext in one record: 64 KiB, so one 64 KiB write is one record. */
export const MAX_PLAINTEXT = 64 * 1024;

/**
 * Largest frame body (type byte + payload) accepted from the wire, checked from the 4-byte length
 * before anything is buffered: a record's plaintext plus room for any suite's overhead, and for
 * the largest handshake message (RSA keys up to 8192 bits with hybrid sealing).
 */
export const MAX_FRAME_BODY = MAX_PLAINTEXT + 4096;

/** Bytes before a frame's payload: u32 length (big-endian) + u8 type. */
export const FRAME_HEADER_SIZE = 5;

/** A handshake that has not finished after this long is dropped (milliseconds). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Hard limit of a direction's 64-bit sequence number: the session closes rather than let the
 * counter wrap (a wrap would repeat nonces).
 */
export const SEQUENCE_HARD_LIMIT = 0xffff_ffff_ffff_ffffn;
