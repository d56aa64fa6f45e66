/**
 * The browser build's `Buffer`: the core writes `Buffer.from`, `Buffer.concat`, `readUInt32BE`…
 * as Node code does, and the browser has no `Buffer`. esbuild injects this module wherever the
 * global is used (scripts/build-browser.mjs), so the same core source runs on the `buffer`
 * package's implementation, a Uint8Array subclass with Node's API.
 */
export { Buffer } from 'buffer';
