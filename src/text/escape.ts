/**
 * Escaping of text that came from a peer, before it reaches a terminal, a log line, stderr or an
 * error message. One helper for the whole code base (chat rendering, chat server logs, the CLI's
 * error line, `serve` logs), so no peer can move a cursor, colour a terminal, hide or reorder text,
 * or start a second, forged line.
 *
 * Unsafe code points, each written as `\uXXXX` (`\u{XXXXX}` above U+FFFF):
 * - control characters (`\p{Cc}`: C0 including TAB, CR, LF and ESC, DEL, C1 including NEL);
 * - format characters (`\p{Cf}`): bidi embeddings, overrides and isolates (U+202A–202E,
 *   U+2066–2069), LRM/RLM/ALM, zero-width spaces and joiners, soft hyphen, BOM, the invisible tag
 *   characters U+E0000–E007F, and the rest of the category; the one exception is a zero-width
 *   joiner between two emoji (👩‍💻), which joins pictographs and cannot hide or reorder text;
 * - the line and paragraph separators U+2028 and U+2029;
 * - lone surrogates (not text at all).
 *
 * A backslash is left as it is: `\u001b` typed by a user shows as those six characters, which is
 * harmless, and the chat's line format stays as it was.
 */

/** Matches one unsafe code point (see the header), global. */
const UNSAFE =
  /(?<!\p{Extended_Pictographic}[\u{1F3FB}-\u{1F3FF}\uFE0F]?)\u200D|\u200D(?!\p{Extended_Pictographic})|[\p{Cc}\p{Zl}\p{Zp}\p{Cs}]|(?!\u200D)\p{Cf}/gu;

/** True when `text` holds no unsafe code point: it shows as itself, on one line. */
export function isSafeText(text: string): boolean {
  UNSAFE.lastIndex = 0;
  return !UNSAFE.test(text);
}

/** `text` with every unsafe code point replaced by its `\uXXXX` escape. */
export function escapeText(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const cp = c.codePointAt(0)!;
    return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
}

/**
 * A peer-supplied string made fit for one line of a log or an error message: escaped, and clipped
 * to `maxChars` code points (with `…`) so that a peer cannot flood the line either.
 */
export function peerText(text: string, maxChars = 80): string {
  const chars = [...text];
  const clipped = chars.length > maxChars ? `${chars.slice(0, maxChars).join('')}…` : text;
  return escapeText(clipped);
}
