/**
 * A transparent handshake and cipher for testing the session state machine on its own: the
 * "cipher" appends one check byte (type ⊕ low byte of seq ⊕ 0x5a), so tests can forge records of
 * any type and sequence number at will. Never a real cipher: test code only.
 */
import type { RecordCipher } from '../../src/record/cipher.js';
import type { Handshake, HandshakeMessage, HandshakeStep } from '../../src/session/handshake.js';

export const check = (type: number, seq: bigint): number => (type ^ Number(seq & 0xffn) ^ 0x5a) & 0xff;

export class TransparentCipher implements RecordCipher {
  readonly overhead = 1;
  wiped = false;
  constructor(readonly recordsPerKey: bigint = 1n << 40n) {}
  seal(type: number, seq: bigint, header: Uint8Array, plaintext: Uint8Array): Uint8Array[] {
    return [header, plaintext, Buffer.from([check(type, seq)])];
  }
  open(type: number, seq: bigint, _header: Uint8Array, body: Uint8Array): Uint8Array | null {
    if (body.length < 1 || body[body.length - 1] !== check(type, seq)) return null;
    return body.subarray(0, body.length - 1);
  }
  next(): RecordCipher {
    return new TransparentCipher(this.recordsPerKey);
  }
  wipe(): void {
    this.wiped = true;
  }
}

/** Client sends 0x01; server answers 0x02 and is established; client is established on 0x02. */
export class FakeHandshake implements Handshake {
  wiped = 0;
  readonly ciphers = { send: new TransparentCipher(), receive: new TransparentCipher() };
  constructor(
    readonly role: 'client' | 'server',
    private readonly opts: { throwOnReceive?: unknown; data?: Uint8Array[] } = {},
  ) {}
  get awaiting(): string {
    return this.role === 'client' ? 'the fake reply' : 'the fake hello';
  }
  start(): HandshakeStep {
    return { send: this.role === 'client' ? [{ type: 0x01, payload: Buffer.from('hello') }] : [] };
  }
  receive(m: HandshakeMessage): HandshakeStep {
    if (this.opts.throwOnReceive !== undefined) throw this.opts.throwOnReceive;
    const established = { ...this.ciphers, peerPublicKey: null };
    if (this.role === 'server' && m.type === 0x01) return { send: [{ type: 0x02, payload: Buffer.from('reply') }], established, data: this.opts.data ?? [] };
    if (this.role === 'client' && m.type === 0x02) return { send: [], established };
    throw new Error(`unexpected 0x${m.type.toString(16)}`);
  }
  wipe(): void {
    this.wiped++;
  }
}

/** A framed record as the transparent cipher would seal it. */
export function forgeRecord(type: number, seq: bigint, plaintext: Uint8Array, checkByte = check(type, seq)): Buffer {
  const len = Buffer.alloc(5);
  len.writeUInt32BE(plaintext.length + 2, 0);
  len[4] = type;
  return Buffer.concat([len, plaintext, Buffer.from([checkByte])]);
}
