/**
 * The shared escaping helper: every control, format and separator character comes out as a visible
 * escape, so a peer's string can neither drive a terminal nor start a forged line; plain text and
 * emoji sequences come out as they went in.
 */
import { describe, expect, it } from 'vitest';
import { escapeText, isSafeText, peerText } from '../../src/text/escape.js';

describe('escapeText', () => {
  it('escapes ESC, CR, LF, TAB, DEL, NUL and C1 (NEL, CSI)', () => {
    expect(escapeText('a\x1b[31mb')).toBe('a\\u001b[31mb');
    expect(escapeText('x\r\ny')).toBe('x\\u000d\\u000ay');
    expect(escapeText('\t\x7f\0\x85\x9b')).toBe('\\u0009\\u007f\\u0000\\u0085\\u009b');
  });

  it('escapes the line and paragraph separators', () => {
    expect(escapeText('a\u2028b\u2029c')).toBe('a\\u2028b\\u2029c');
  });

  it('escapes bidi overrides, embeddings, isolates and marks', () => {
    for (const cp of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c]) {
      const c = String.fromCodePoint(cp);
      expect(isSafeText(`x${c}y`)).toBe(false);
      expect(escapeText(`x${c}y`)).toBe(`x\\u${cp.toString(16).padStart(4, '0')}y`);
    }
  });

  it('escapes other format characters: zero-width space, soft hyphen, BOM, tag characters', () => {
    expect(escapeText('a\u200bb\u00adc\ufeffd')).toBe('a\\u200bb\\u00adc\\ufeffd');
    expect(escapeText('hi\u{e0041}\u{e007f}')).toBe('hi\\u{e0041}\\u{e007f}');
  });

  it('escapes lone surrogates', () => {
    expect(escapeText('a\ud800b\udc00')).toBe('a\\ud800b\\udc00');
  });

  it('escapes a zero-width joiner between letters but keeps it inside an emoji sequence', () => {
    expect(escapeText('a\u200db')).toBe('a\\u200db');
    expect(escapeText('\u200d')).toBe('\\u200d');
    for (const emoji of ['👩‍💻', '👩🏽‍💻', '🏳️‍🌈', '👨‍👩‍👧']) {
      expect(isSafeText(emoji)).toBe(true);
      expect(escapeText(emoji)).toBe(emoji);
    }
  });

  it('leaves printable text alone, in any script', () => {
    const text = 'héllo wörld \\u001b ñ 日本語 עברית العربية 🙂 "quotes" <tags>';
    expect(isSafeText(text)).toBe(true);
    expect(escapeText(text)).toBe(text);
  });

  it('never leaves a character that ends a line or starts an escape sequence', () => {
    let all = '';
    for (let cp = 0; cp < 0x110000; cp++) if (cp < 0xd800 || cp > 0xdfff) all += String.fromCodePoint(cp);
    const out = escapeText(all);
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f]/u);
  });
});

describe('peerText', () => {
  it('escapes and clips a long string to a bounded length', () => {
    expect(peerText('x'.repeat(500), 10)).toBe('xxxxxxxxxx…');
    expect(peerText('a\nb')).toBe('a\\u000ab');
    expect(peerText('🙂'.repeat(3), 2)).toBe('🙂🙂…');
  });
});
