/**
 * An in-memory panel for tests: n PanelSessions on one virtual clock, wired by
 * a delivery queue. It moves bytes only (like the simulator's network); the
 * sessions under test are the real ones. Delivery is FIFO or, with a seeded
 * RNG, in a random order, to exercise reordering. Also: deterministic RNGs and
 * identities, and a builder of malformed messages (re-signs a decoded message
 * after a change, as a cheating sender would).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { CryptoProvider, Rng } from '../../../app/core/crypto-provider.js';
import type { MemberKey } from '../../../app/core/types.js';
import { nobleCrypto } from '../../../app/crypto/noble.js';
import { concatBytes, toHex, u32, ascii } from '../../../app/fractional/bytes.js';
import type { PanelEvent, PanelOptions } from '../../../app/fractional/session.js';
import { PanelSession } from '../../../app/fractional/session.js';
import type { OpeningKeys, PanelMessage } from '../../../app/fractional/wire.js';
import { decodeSigned, encodeSigned, open, openingKeys, seal, sealTarget } from '../../../app/fractional/wire.js';

/** SHA-256 in counter mode: the same label gives the same stream. */
export function seededRng(label: string): Rng {
  let counter = 0;
  let pool: Uint8Array = new Uint8Array(0);
  return (n) => {
    while (pool.length < n) pool = concatBytes(pool, sha256(concatBytes(ascii(label), u32(counter++))));
    const out = pool.slice(0, n);
    pool = pool.slice(n);
    return out;
  };
}

/** Whether `needle` occurs anywhere in `haystack` (for scanning datagrams for secrets). */
export function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

export interface Identity {
  seed: Uint8Array;
  key: MemberKey;
}

export function identities(n: number, label = 'member'): Identity[] {
  return Array.from({ length: n }, (_, i) => {
    const seed = sha256(ascii(`${label}/${i}`));
    return { seed, key: toHex(nobleCrypto.ed25519PublicKey(seed)) };
  });
}

export interface Sent {
  from: MemberKey;
  to: MemberKey;
  bytes: Uint8Array;
}

export class PanelNet {
  readonly sessions = new Map<MemberKey, PanelSession>();
  readonly seeds = new Map<MemberKey, Uint8Array>();
  readonly events = new Map<MemberKey, PanelEvent[]>();
  /** Every datagram any session produced, in order. */
  readonly sent: Sent[] = [];
  readonly queue: Sent[] = [];
  /** Crashed members: they neither send nor receive. */
  readonly down = new Set<MemberKey>();
  now = 1_700_000_000_000;
  /** Return null to drop a datagram, or other bytes to deliver instead. */
  intercept: ((m: Sent) => Uint8Array | null) | null = null;
  private readonly order: Rng | null;
  private readonly crypto: CryptoProvider;
  private readonly opening = new Map<MemberKey, OpeningKeys>();

  constructor(
    readonly members: Identity[],
    options: PanelOptions & { label?: string; shuffle?: string; crypto?: CryptoProvider } = {},
  ) {
    this.crypto = options.crypto ?? nobleCrypto;
    const keys = members.map((m) => m.key);
    for (const m of members) this.add(m, keys, options);
    this.order = options.shuffle ? seededRng(options.shuffle) : null;
  }

  add(m: Identity, panel: MemberKey[], options: PanelOptions & { label?: string } = {}): PanelSession {
    const session = new PanelSession({ crypto: this.crypto, rng: seededRng(`${options.label ?? 'net'}/${m.key}`) }, m.seed, panel, options);
    this.sessions.set(m.key, session);
    this.seeds.set(m.key, m.seed);
    this.events.set(m.key, []);
    return session;
  }

  session(key: MemberKey): PanelSession {
    return this.sessions.get(key)!;
  }

  /** Collects the outputs of one session (transmits first, then events, as documented). */
  collect(key: MemberKey): void {
    const s = this.sessions.get(key)!;
    for (let t = s.pollTransmit(); t; t = s.pollTransmit()) {
      if (this.down.has(key)) continue;
      const m = { from: key, to: t.to, bytes: t.bytes };
      this.sent.push(m);
      this.queue.push(m);
    }
    for (let e = s.pollEvent(); e; e = s.pollEvent()) this.events.get(key)!.push(e);
  }

  collectAll(): void {
    for (const key of this.sessions.keys()) this.collect(key);
  }

  /** Delivers until nothing is in flight; returns how many datagrams moved. */
  run(limit = 100_000): number {
    this.collectAll();
    let moved = 0;
    while (this.queue.length > 0) {
      if (++moved > limit) throw new Error('delivery did not settle');
      const at = this.order ? this.order(1)[0]! % this.queue.length : 0;
      const m = this.queue.splice(at, 1)[0]!;
      if (this.down.has(m.to) || !this.sessions.has(m.to)) continue;
      const bytes = this.intercept ? this.intercept(m) : m.bytes;
      if (bytes === null) continue;
      this.sessions.get(m.to)!.receive(m.from, bytes, this.now);
      this.collect(m.to);
    }
    return moved;
  }

  /** Moves the virtual clock and ticks every live session. */
  advance(ms: number): void {
    this.now += ms;
    for (const [key, s] of this.sessions) if (!this.down.has(key)) s.tick(this.now);
    this.collectAll();
  }

  eventsOf<T extends PanelEvent['type']>(key: MemberKey, type: T): Extract<PanelEvent, { type: T }>[] {
    return this.events.get(key)!.filter((e): e is Extract<PanelEvent, { type: T }> => e.type === type);
  }

  live(): MemberKey[] {
    return [...this.sessions.keys()].filter((k) => !this.down.has(k));
  }

  /** Opens and decodes a datagram with its recipient's seed (tests only: the harness knows every seed). */
  decode(m: Sent): PanelMessage {
    const decoded = decodeSigned(nobleCrypto, this.plaintext(m));
    if (!decoded.ok) throw new Error(`cannot decode: ${decoded.detail}`);
    return decoded.value;
  }

  /** The plaintext signed record of a datagram. */
  plaintext(m: Sent): Uint8Array {
    let keys = this.opening.get(m.to);
    if (!keys) this.opening.set(m.to, (keys = openingKeys(nobleCrypto, this.seeds.get(m.to)!)));
    const record = open(nobleCrypto, keys, m.bytes);
    if (!record.ok) throw new Error(`cannot open: ${record.detail}`);
    return record.value;
  }

  /**
   * The malformed-message builder: decode a real datagram, let `change` edit the
   * message, then sign it with the sender's own key and seal it to the
   * recipient, as a cheating (but authenticated) sender would.
   */
  forge(m: Sent, change: (msg: PanelMessage) => PanelMessage, signer: MemberKey = m.from): Uint8Array {
    const edited = change(this.decode(m));
    const record = encodeSigned(nobleCrypto, this.seeds.get(signer)!, edited);
    return seal(nobleCrypto, seededRng('forge'), sealTarget(nobleCrypto, m.to)!, record);
  }
}

/** Runs distributed initialization on a fresh net and returns it. */
export function initialized(net: PanelNet): PanelNet {
  net.session(net.members[0]!.key).startInitialization(net.now);
  net.run();
  return net;
}
