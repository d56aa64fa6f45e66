/**
 * How sealwire's stream maps onto WebSocket messages, shared by both ends (the browser's
 * session.ts and Node's transport/websocket.ts; docs/PROTOCOLS.md, "WebSocket"):
 *
 * - Only binary messages. A text message ends the session (`BAD_RECORD`).
 * - A sender puts each frame (`u32 length ‖ u8 type ‖ payload`, exactly the bytes TCP carries) in
 *   one message; a receiver feeds messages to the core as a byte stream, so message boundaries
 *   carry no meaning and a frame split over messages still parses.
 * - A message longer than the largest frame is refused before it is buffered: `ws`'s `maxPayload`
 *   on the Node side (close code 1009), a length check in the browser.
 * - No half-close: a WebSocket close ends both directions, so the close record of one side ends
 *   the session (the other side answers with its own close record where it still can).
 */
import { FRAME_HEADER_SIZE, MAX_FRAME_BODY } from '../record/limits.js';

/** Largest WebSocket message accepted: one whole frame. */
export const MAX_WEBSOCKET_MESSAGE = FRAME_HEADER_SIZE + MAX_FRAME_BODY;
