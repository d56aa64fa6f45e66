import { describeConformance } from './conformance.js';
import { describeTcpConformance } from './conformance-tcp.js';

// The default: ChaCha20-Poly1305 records, negotiated. Then seed 003's XSalsa20-Poly1305, forced.
// Thousands of handshakes per bit-flip test: bounded generously for a loaded machine.
describeConformance('box', { flipTimeoutMs: 120_000 });
describeConformance('box', { boxCipher: 'xsalsa20-poly1305', flipTimeoutMs: 120_000 });
describeTcpConformance('box');
