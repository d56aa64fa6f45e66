/**
 * The sans-I/O UDP core over an in-memory datagram network with a tamper hook: loss, replay,
 * reorder, address change, bit flips, garbage, half-open floods and the amplification rule.
 * Time is simulated; nothing here waits on a clock.
 */
import { WINDOW_SIZE } from '../../src/record/replay-window.js';
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/keys/key.js';
import { boxSuite } from '../../src/suites/box/index.js';
import { DatagramType, RECORD_HEADER_SIZE } from '../../src/record/datagram.js';
import { DatagramNet, type Hook, type InFlight } from '../helpers/datagram-net.js';
import { seededRngForTestingOnly } from '../helpers/rng.js';
import type { DatagramServerOptions } from '../../src/session/datagram-server.js';

const serverKey = generateKeyPair('x25519');
const clientKey = generateKeyPair('x25519');

function serverOptions(extra: Partial<DatagramServerOptions> = {}): DatagramServerOptions {
  return { suite: boxSuite, config: { key: serverKey, authorize: () => true, rng: seededRngForTestingOnly('server') }, ...extra };
}

function client(net: DatagramNet, seed: string, opts: { learn?: boolean; address?: { address: string; port: number } } = {}) {
  const rng = seededRngForTestingOnly(seed);
  const connectionId = rng(8);
  const hs = boxSuite.client({
    key: clientKey,
    server: opts.learn ? { kind: 'learn', verify: () => {} } : { kind: 'pinned', key: serverKey.publicKey },
    rng,
    connectionId,
  });
  return net.addClient(hs, connectionId, opts.address);
}

/** A deterministic pseudo-random number in [0, 1) from a seed string. */
function chance(seed: string): () => number {
  const rng = seededRngForTestingOnly(seed);
  return () => rng(4).readUInt32BE(0) / 2 ** 32;
}

const established = (net: DatagramNet): DatagramNet => {
  const c = client(net, 'c0');
  expect(net.runUntil(() => c.session.phase === 'open')).toBe(true);
  return net;
};

describe('UDP core: handshake under loss', () => {
  it('completes every handshake with 20% of datagrams lost each way, then carries messages', () => {
    const random = chance('loss');
    const lossy: Hook = (d) => (random() < 0.2 ? [] : [d.data]);
    const net = new DatagramNet(serverOptions(), lossy);
    const clients = Array.from({ length: 30 }, (_, i) => client(net, `lossy ${i}`));
    expect(net.runUntil(() => clients.every((c) => c.session.phase === 'open'), 9_000)).toBe(true);
    // Retransmissions happened, and the server ran each handshake step once (the same Cookie again).
    expect(net.server.handshakesInProgress).toBe(0);
    net.hook = undefined;
    clients.forEach((c, i) => net.clientSend(i, `after loss ${i}`));
    net.deliver();
    clients.forEach((c, i) => expect(net.messagesAt(c)).toEqual([`after loss ${i}`]));
  });

  it('retransmits with backoff and gives up at the handshake deadline with TIMEOUT', () => {
    const sent: number[] = [];
    const net = new DatagramNet(serverOptions());
    net.hook = (d) => {
      if (d.from === 'client') sent.push(net.now);
      return []; // the server never hears anything
    };
    const c = client(net, 'silent');
    net.advance(12_000, 10);
    expect(c.session.phase).toBe('closed');
    expect(c.session.error?.code).toBe('TIMEOUT');
    const gaps = sent.slice(1).map((t, i) => t - sent[i]!);
    expect(gaps.slice(0, 4)).toEqual([250, 500, 1000, 2000]);
    expect(Math.max(...gaps)).toBe(2000);
  });

  it('keeps no state for Hellos (stateless Cookie), and answers a repeated Vouch with the same Ready', () => {
    const net = new DatagramNet(serverOptions());
    const log: InFlight[] = [];
    net.hook = (d) => {
      log.push(d);
      if (d.from === 'client' && d.data[0] === 0x01) expect(net.server.size).toBe(0);
      return d.from === 'client' ? [d.data, d.data] : [d.data];
    };
    const c = client(net, 'dup');
    expect(net.runUntil(() => c.session.phase === 'open')).toBe(true);
    const cookies = log.filter((d) => d.from === 'server' && d.data[0] === 0x02).map((d) => Buffer.from(d.data).toString('hex'));
    expect(cookies.length).toBe(2);
    expect(new Set(cookies).size).toBe(2); // each Hello answered afresh, from nothing stored
    const readies = log.filter((d) => d.from === 'server' && d.data[0] === 0x04).map((d) => Buffer.from(d.data).toString('hex'));
    expect(readies.length).toBe(2);
    expect(new Set(readies).size).toBe(1); // the duplicated Vouch': the same Ready, one session
    expect(net.server.size).toBe(1);
  });

  it('refuses a token older than two key periods', () => {
    const net = new DatagramNet(serverOptions());
    let vouch: Uint8Array | undefined;
    net.hook = (d) => {
      if (d.from === 'client' && d.data[0] === 0x03) {
        vouch ??= d.data;
        return [];
      }
      return [d.data];
    };
    const c = client(net, 'slow');
    net.advance(1_000);
    expect(vouch).toBeDefined();
    net.advance(125_000, 1_000);
    net.hook = undefined;
    net.inject(vouch!, c.address);
    net.deliver();
    expect(net.server.size).toBe(0);
    expect(net.serverEvents.some((e) => e.type === 'handshakeError' && /no valid server token/.test(e.error.message))).toBe(true);
  });

  it('refuses a Vouch replayed after its session ended (the token is spent)', () => {
    const net = new DatagramNet(serverOptions());
    let vouch: Uint8Array | undefined;
    net.hook = (d) => {
      if (d.from === 'client' && d.data[0] === 0x03) vouch = d.data;
      return [d.data];
    };
    const c = client(net, 'replayed vouch');
    expect(net.runUntil(() => c.session.phase === 'open')).toBe(true);
    c.session.close(net.now);
    net.advance(10);
    expect(net.server.size).toBe(0);
    net.inject(vouch!, c.address);
    net.deliver();
    expect(net.server.size).toBe(0);
    expect(net.serverEvents.some((e) => e.type === 'handshakeError' && /used already/.test(e.error.message))).toBe(true);
  });
});

describe('UDP core: records', () => {
  it('rejects a replayed record and keeps the session', () => {
    const net = established(new DatagramNet(serverOptions()));
    const captured: Uint8Array[] = [];
    net.hook = (d) => {
      if (d.from === 'client' && d.data[0] === DatagramType.DATA) captured.push(d.data);
      return [d.data];
    };
    net.clientSend(0, 'once');
    net.deliver();
    for (let i = 0; i < 5; i++) net.inject(captured[0]!, net.clients[0]!.address);
    net.inject(captured[0]!, { address: '192.0.2.9', port: 1 });
    net.deliver();
    net.clientSend(0, 'twice');
    net.deliver();
    expect(net.messagesAt(net.clients[0]!)).toEqual(['once', 'twice']);
  });

  it('accepts records reordered within the window exactly once, and drops duplicates', () => {
    const net = established(new DatagramNet(serverOptions()));
    const held: Uint8Array[] = [];
    net.hook = (d) => {
      if (d.from === 'client') held.push(d.data);
      return [];
    };
    const n = 300;
    for (let i = 0; i < n; i++) net.clientSend(0, `m${i}`);
    net.hook = undefined;
    const random = chance('shuffle');
    const order = held.map((d) => ({ d, k: random() })).sort((a, b) => a.k - b.k).map((x) => x.d);
    for (const d of [...order, ...order.slice(0, 50)]) net.inject(d, net.clients[0]!.address);
    net.deliver();
    const got = net.messagesAt(net.clients[0]!);
    expect(got.length).toBe(n);
    expect(new Set(got).size).toBe(n);
  });

  it('drops a record older than the window, accepts one just inside it', () => {
    const net = established(new DatagramNet(serverOptions()));
    const held: Uint8Array[] = [];
    net.hook = (d) => {
      held.push(d.data);
      return [];
    };
    const top = WINDOW_SIZE + 40;
    for (let i = 0; i <= top; i++) net.clientSend(0, `r${i}`);
    net.hook = undefined;
    const from = net.clients[0]!.address;
    net.inject(held[top]!, from); // highest = top
    net.inject(held[top - (WINDOW_SIZE - 1)]!, from); // WINDOW_SIZE - 1 behind: inside the window
    net.inject(held[top - WINDOW_SIZE]!, from); // WINDOW_SIZE behind: outside
    net.inject(held[0]!, from);
    net.deliver();
    expect(WINDOW_SIZE).toBeGreaterThanOrEqual(8128); // at least WireGuard's (docs/DESIGN.md §10)
    expect(net.messagesAt(net.clients[0]!)).toEqual([`r${top}`, `r${top - (WINDOW_SIZE - 1)}`]);
  });

  it('rejects every single-bit flip of a record, and still accepts the original afterwards', () => {
    const net = established(new DatagramNet(serverOptions()));
    let record: Uint8Array | undefined;
    net.hook = (d) => {
      if (d.from === 'client' && d.data[0] === DatagramType.DATA) record = d.data;
      return [];
    };
    net.clientSend(0, 'flip me');
    net.hook = undefined;
    const from = net.clients[0]!.address;
    for (let bit = 0; bit < record!.length * 8; bit++) {
      const bad = Buffer.from(record!);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      net.inject(bad, from);
    }
    net.deliver();
    expect(net.messagesAt(net.clients[0]!)).toEqual([]);
    expect(net.clients[0]!.session.phase).toBe('open');
    net.inject(record!, from);
    net.deliver();
    expect(net.messagesAt(net.clients[0]!)).toEqual(['flip me']);
  });

  it('rejects every single-bit flip of the handshake datagrams without breaking the handshake', () => {
    const net = new DatagramNet(serverOptions());
    const flips: Hook = (d) => {
      const out: Uint8Array[] = [];
      for (let bit = 0; bit < d.data.length * 8; bit += 7) {
        const bad = Buffer.from(d.data);
        bad[bit >> 3]! ^= 1 << (bit & 7);
        out.push(bad);
      }
      out.push(d.data); // the real one last
      return out;
    };
    net.hook = flips;
    const c = client(net, 'flips');
    expect(net.runUntil(() => c.session.phase === 'open')).toBe(true);
    net.hook = undefined;
    net.clientSend(0, 'after flips');
    net.deliver();
    expect(net.messagesAt(c)).toEqual(['after flips']);
    expect(net.server.size).toBe(1); // flipped connection ids left no sessions behind
  });

  it('refuses a Hello copied under another connection id (the id is sealed inside the Hello)', () => {
    const net = new DatagramNet(serverOptions());
    let hello: Uint8Array | undefined;
    net.hook = (d) => {
      hello ??= d.data;
      return [];
    };
    client(net, 'copied');
    const copy = Buffer.from(hello!);
    copy[3]! ^= 0xff;
    net.inject(copy, { address: '192.0.2.77', port: 1 });
    net.deliver();
    expect(net.server.size).toBe(0);
    expect(net.serverEvents.some((e) => e.type === 'handshakeError' && /another connection id/.test(e.error.message))).toBe(true);
  });

  it('reassembles a fragmented message delivered out of order with duplicates', () => {
    const net = established(new DatagramNet(serverOptions()));
    const held: Uint8Array[] = [];
    net.hook = (d) => {
      held.push(d.data);
      return [];
    };
    const big = 'x'.repeat(10_000) + 'end';
    net.clientSend(0, big);
    net.hook = undefined;
    expect(held.length).toBe(9);
    for (const d of [...held].reverse().concat(held.slice(0, 3))) net.inject(d, net.clients[0]!.address);
    net.deliver();
    expect(net.messagesAt(net.clients[0]!)).toEqual([big]);
  });
});

describe('UDP core: padded client handshake datagrams', () => {
  it('pads every client handshake datagram when the suite asks, and the handshake still completes', () => {
    const padded = { ...boxSuite, datagram: { ...boxSuite.datagram, padClientHandshakeTo: 1200 } };
    const net = new DatagramNet(serverOptions({ suite: padded }));
    const sizes: number[] = [];
    net.hook = (d) => {
      if (d.from === 'client' && (d.data[0]! & 0x80) !== 0) sizes.push(d.data.length);
      return [d.data];
    };
    const rng = seededRngForTestingOnly('padded');
    const connectionId = rng(8);
    const hs = padded.client({ key: clientKey, server: { kind: 'learn', verify: () => {} }, rng, connectionId });
    const c = net.addClient(hs, connectionId, undefined, { profile: padded.datagram });
    expect(net.runUntil(() => c.session.phase === 'open')).toBe(true);
    expect(sizes.length).toBeGreaterThanOrEqual(2);
    expect(sizes.every((n) => n === 1200)).toBe(true);
  });

  it('drops padded datagrams whose length or padding is wrong', async () => {
    const { encodeHandshakeDatagram, readHandshakeDatagram } = await import('../../src/record/datagram.js');
    const cid = Buffer.alloc(8, 3);
    const good = encodeHandshakeDatagram(0x01, cid, Buffer.from('payload'), 100);
    expect(good.length).toBe(100);
    expect(Buffer.from(readHandshakeDatagram(good, 100)!.payload).toString()).toBe('payload');
    const badPad = Buffer.from(good);
    badPad[99] = 1;
    expect(readHandshakeDatagram(badPad, 100)).toBeNull();
    const badLen = Buffer.from(good);
    badLen.writeUInt16BE(200, 9);
    expect(readHandshakeDatagram(badLen, 100)).toBeNull();
    expect(readHandshakeDatagram(good.subarray(0, 10), 100)).toBeNull();
  });
});

describe('UDP core: addresses', () => {
  it('keeps the session when the client address changes, after an authenticated packet from the new one', () => {
    const net = established(new DatagramNet(serverOptions()));
    const c = net.clients[0]!;
    const entry = [...net.server.entries()][0]!;
    expect(entry.address).toEqual(c.address);
    // A forged record from elsewhere does not move the session.
    const forged = Buffer.alloc(RECORD_HEADER_SIZE + 40);
    forged[0] = DatagramType.DATA;
    forged.set(c.session.connectionId, 1);
    forged.writeBigUInt64BE(99n, 9);
    net.inject(forged, { address: '203.0.113.66', port: 666 });
    net.deliver();
    expect(entry.address).toEqual(c.address);
    // NAT rebinding: the client's packets now come from another address and port.
    c.address = { address: '198.51.100.7', port: 40000 };
    net.clientSend(0, 'from the new address');
    net.deliver();
    expect(entry.address).toEqual(c.address);
    expect(net.messagesAt(c)).toEqual(['from the new address']);
    // The server's messages follow the client.
    net.server.send(entry, Buffer.from('to the new address'), net.now);
    net.advance(10);
    expect(c.messages).toEqual(['to the new address']);
  });
});

describe('UDP core: hostile input', () => {
  it('drops garbage and truncated datagrams without disturbing other sessions or keeping state', () => {
    const net = new DatagramNet(serverOptions());
    const good = Array.from({ length: 3 }, (_, i) => client(net, `good ${i}`));
    expect(net.runUntil(() => good.every((c) => c.session.phase === 'open'))).toBe(true);
    const captured: Uint8Array[] = [];
    net.hook = (d) => {
      captured.push(d.data);
      return [d.data];
    };
    net.clientSend(0, 'sample');
    net.deliver();
    const rng = seededRngForTestingOnly('garbage');
    const attacker = { address: '192.0.2.1', port: 4444 };
    for (let i = 0; i < 2000; i++) {
      const len = rng(2).readUInt16BE(0) % 1400;
      const g = rng(len);
      if (i % 4 === 0 && len > 0) g[0] = i % 16; // looks like a handshake type
      net.inject(g, attacker);
    }
    for (const d of captured) for (let k = 0; k < d.length; k++) net.inject(d.subarray(0, k), attacker);
    // A valid Hello cut short, and one with trailing bytes.
    net.deliver();
    expect(net.server.size).toBe(3);
    expect(net.server.handshakesInProgress).toBe(0);
    // Reported to the operator, but rate-limited: garbage must not flood the log.
    expect(net.server.droppedHandshakeDatagrams).toBeGreaterThan(100);
    expect(net.serverEvents.filter((e) => e.type === 'handshakeError').length).toBeLessThanOrEqual(11);
    good.forEach((c, i) => net.clientSend(i, `still here ${i}`));
    net.deliver();
    good.forEach((c, i) => expect(net.messagesAt(c).at(-1)).toBe(`still here ${i}`));
  });

  it('keeps no state at all for a flood of valid Hellos (box answers them statelessly)', () => {
    const net = new DatagramNet(serverOptions());
    for (let i = 0; i < 3000; i++) {
      const rng = seededRngForTestingOnly(`stateless flood ${i}`);
      const connectionId = rng(8);
      const hello = boxSuite.client({ key: clientKey, server: { kind: 'pinned', key: serverKey.publicKey }, rng, connectionId }).start().send[0]!;
      net.inject(Buffer.concat([Buffer.from([hello.type]), connectionId, hello.payload]), { address: '192.0.2.3', port: i });
    }
    net.deliver();
    expect(net.server.size).toBe(0);
    expect(net.server.handshakesInProgress).toBe(0);
    const c = client(net, 'after the flood');
    expect(net.runUntil(() => c.session.phase === 'open')).toBe(true);
  });

  it('bounds half-open handshakes per source address and per server; at the server bound the oldest goes, so clients get in', () => {
    // A stateful server (box without its stateless Cookie): every Hello holds state until the deadline.
    const statefulBox = { ...boxSuite, datagram: undefined };
    const net = new DatagramNet(serverOptions({ suite: statefulBox, maxHandshakes: 100, maxHandshakesPerAddress: 10, handshakeTimeoutMs: 2_000 }));
    // Valid Hellos with fresh connection ids that never continue.
    const flood = (address: string, count: number, seed: string): void => {
      for (let i = 0; i < count; i++) {
        const rng = seededRngForTestingOnly(`${seed} ${i}`);
        const connectionId = rng(8);
        const hs = boxSuite.client({ key: clientKey, server: { kind: 'pinned', key: serverKey.publicKey }, rng, connectionId });
        const hello = hs.start().send[0]!;
        const d = Buffer.concat([Buffer.from([hello.type]), connectionId, hello.payload]);
        net.inject(d, { address, port: 1000 + i });
      }
      net.deliver();
    };
    flood('192.0.2.1', 500, 'one address');
    expect(net.server.handshakesInProgress).toBe(10);
    for (let a = 0; a < 30; a++) flood(`198.18.0.${a}`, 20, `many ${a}`);
    expect(net.server.handshakesInProgress).toBe(100);
    expect(net.server.limitDrops).toBeGreaterThan(0);
    // A real client gets in while the table is full: the oldest half-open handshake makes room for
    // it (as over TCP), without waiting for the flood to expire.
    const c = client(net, 'patient', { address: { address: '203.0.113.5', port: 7 } });
    expect(net.runUntil(() => c.session.phase === 'open', 1_000)).toBe(true);
    expect(net.server.handshakesInProgress).toBeLessThanOrEqual(100);
    expect(net.server.handshakesInProgress).toBeGreaterThan(0); // the rest of the flood, until it expires
    net.advance(3_000);
    expect(net.server.handshakesInProgress).toBe(0);
    expect(c.session.phase).toBe('open');
  });

  it('never answers an unauthenticated datagram with more bytes than it carried', () => {
    const net = new DatagramNet(serverOptions());
    const random = chance('amp');
    net.hook = (d) => {
      const r = random();
      if (r < 0.15) return [];
      if (r < 0.3) return [d.data, d.data, d.data];
      return [d.data];
    };
    const clients = [
      ...Array.from({ length: 10 }, (_, i) => client(net, `amp ${i}`)),
      ...Array.from({ length: 10 }, (_, i) => client(net, `amp learn ${i}`, { learn: true })),
    ];
    expect(net.runUntil(() => clients.every((c) => c.session.phase === 'open'), 9_000)).toBe(true);
    // Records to unknown ids, garbage, truncated handshakes.
    const rng = seededRngForTestingOnly('amp garbage');
    for (let i = 0; i < 500; i++) {
      const g = rng(1 + (i % 300));
      g[0] = [0x01, 0x03, 0x05, 0x10, 0x11, 0x13][i % 6]!;
      net.inject(g, { address: '192.0.2.50', port: i });
    }
    net.deliver();
    const unauthenticated = net.serverSteps.filter((s) => !s.authenticated);
    expect(unauthenticated.length).toBeGreaterThan(500);
    expect(unauthenticated.some((s) => s.replies.length > 0)).toBe(true);
    for (const s of unauthenticated) {
      const total = s.replies.reduce((a, b) => a + b, 0);
      expect(total).toBeLessThanOrEqual(s.inSize);
    }
    expect(net.server.amplificationDrops).toBe(0);
  });
});

describe('UDP core: notices', () => {
  it('answers a record for an unknown connection id with a 9-byte "handshake again" notice, which the client reports', () => {
    const net = established(new DatagramNet(serverOptions()));
    const c = net.clients[0]!;
    let record: Uint8Array | undefined;
    net.hook = (d) => {
      if (d.from === 'client') record = d.data;
      return [d.data];
    };
    net.clientSend(0, 'before the restart');
    net.hook = undefined;
    // The server restarts: a new endpoint that knows no sessions.
    const restarted = new DatagramNet(serverOptions());
    restarted.server.receive(record!, c.address, 0);
    const out = restarted.server.takeOutput();
    expect(out.map((o) => [o.data.length, o.data[0]])).toEqual([[9, DatagramType.HANDSHAKE_AGAIN]]);
    expect(c.session.receive(out[0]!.data, net.now)).toBe('dropped');
    expect(c.session.takeEvents()).toEqual([{ type: 'notice', kind: 'handshake-again' }]);
    expect(c.session.phase).toBe('open'); // unauthenticated: a hint, not a verdict
  });
});

describe('UDP core: timers', () => {
  it('keeps an idle session alive with keepalives, and closes it with TIMEOUT when the peer goes silent', () => {
    const net = new DatagramNet(serverOptions({ idleTimeoutMs: 3_000, keepaliveMs: 1_000 }));
    const rng = seededRngForTestingOnly('idle');
    const connectionId = rng(8);
    const hs = boxSuite.client({ key: clientKey, server: { kind: 'pinned', key: serverKey.publicKey }, rng, connectionId });
    const c = net.addClient(hs, connectionId, undefined, { idleTimeoutMs: 3_000, keepaliveMs: 1_000 });
    expect(net.runUntil(() => c.session.phase === 'open')).toBe(true);
    net.advance(20_000, 50);
    expect(c.session.phase).toBe('open');
    expect(net.server.size).toBe(1);
    net.hook = () => []; // the network goes dark
    net.advance(4_000, 50);
    expect(c.session.phase).toBe('closed');
    expect(c.session.error?.code).toBe('TIMEOUT');
    expect(net.server.size).toBe(0);
    expect(net.serverEvents.some((e) => e.type === 'sessionEvent' && e.event.type === 'close' && e.event.error?.code === 'TIMEOUT')).toBe(true);
  });

  it('ends the session on the authenticated CLOSE record, and only on that', () => {
    const net = established(new DatagramNet(serverOptions()));
    const c = net.clients[0]!;
    const forgedClose = Buffer.alloc(RECORD_HEADER_SIZE + 16);
    forgedClose[0] = DatagramType.CLOSE;
    forgedClose.set(c.session.connectionId, 1);
    net.inject(forgedClose, c.address);
    net.deliver();
    expect(net.server.size).toBe(1);
    c.session.close(net.now);
    net.advance(10);
    expect(net.server.size).toBe(0);
    expect(net.serverEvents.some((e) => e.type === 'sessionEvent' && e.event.type === 'close' && e.event.error === null)).toBe(true);
  });
});
