/**
 * The part of sodium-native (libsodium bindings) that sealwire uses, typed. sodium-native ships no
 * types of its own; this file declares only what src/crypto/ calls, so the compiler catches a
 * misspelt binding. Functions throw on failure unless they return a boolean.
 */
declare module 'sodium-native' {
  type Buf = Uint8Array;
  interface Sodium {
    crypto_box_PUBLICKEYBYTES: number;
    crypto_box_SECRETKEYBYTES: number;
    crypto_box_SEEDBYTES: number;
    crypto_box_NONCEBYTES: number;
    crypto_box_MACBYTES: number;
    crypto_box_keypair(pk: Buf, sk: Buf): void;
    crypto_box_seed_keypair(pk: Buf, sk: Buf, seed: Buf): void;
    crypto_box_easy(c: Buf, m: Buf, n: Buf, pk: Buf, sk: Buf): void;
    crypto_box_open_easy(m: Buf, c: Buf, n: Buf, pk: Buf, sk: Buf): boolean;

    crypto_kx_SESSIONKEYBYTES: number;
    crypto_kx_client_session_keys(rx: Buf | null, tx: Buf | null, clientPk: Buf, clientSk: Buf, serverPk: Buf): void;
    crypto_kx_server_session_keys(rx: Buf | null, tx: Buf | null, serverPk: Buf, serverSk: Buf, clientPk: Buf): void;

    crypto_scalarmult_BYTES: number;
    crypto_scalarmult(q: Buf, n: Buf, p: Buf): void;
    crypto_scalarmult_base(q: Buf, n: Buf): void;

    crypto_secretbox_KEYBYTES: number;
    crypto_secretbox_NONCEBYTES: number;
    crypto_secretbox_MACBYTES: number;
    crypto_secretbox_detached(c: Buf, mac: Buf, m: Buf, n: Buf, k: Buf): void;
    crypto_secretbox_open_detached(m: Buf, c: Buf, mac: Buf, n: Buf, k: Buf): boolean;
    crypto_secretbox_easy(c: Buf, m: Buf, n: Buf, k: Buf): void;
    crypto_secretbox_open_easy(m: Buf, c: Buf, n: Buf, k: Buf): boolean;

    crypto_aead_chacha20poly1305_ietf_encrypt_detached(c: Buf, mac: Buf, m: Buf, ad: Buf | null, nsec: null, npub: Buf, k: Buf): void;
    /** Throws when the tag does not verify (then `m` is unchanged). */
    crypto_aead_chacha20poly1305_ietf_decrypt_detached(m: Buf, nsec: null, c: Buf, mac: Buf, ad: Buf | null, npub: Buf, k: Buf): void;

    crypto_generichash_BYTES: number;
    crypto_generichash(out: Buf, input: Buf, key?: Buf): void;

    crypto_pwhash_STRBYTES: number;
    crypto_pwhash_OPSLIMIT_INTERACTIVE: number;
    crypto_pwhash_MEMLIMIT_INTERACTIVE: number;
    crypto_pwhash_OPSLIMIT_MODERATE: number;
    crypto_pwhash_MEMLIMIT_MODERATE: number;
    crypto_pwhash_str(out: Buf, passwd: Buf, opslimit: number, memlimit: number): void;
    crypto_pwhash_str_verify(str: Buf, passwd: Buf): boolean;
    crypto_pwhash_str_async(out: Buf, passwd: Buf, opslimit: number, memlimit: number): Promise<void>;
    crypto_pwhash_str_verify_async(str: Buf, passwd: Buf): Promise<boolean>;

    randombytes_buf(buf: Buf): void;
    randombytes_buf_deterministic(buf: Buf, seed: Buf): void;
    sodium_memzero(buf: Buf): void;
    sodium_memcmp(a: Buf, b: Buf): boolean;
  }
  const sodium: Sodium;
  export default sodium;
}
