/**
 * @module peer/peer-guard
 * The peer layer's memory of strangers (issue 15 §1; docs/network.md): token
 * buckets that rate-limit the unicast streams a non-member may open, per peer and
 * per remote address, and a blocklist of peers that repeatedly sent what the
 * authorization table (docs/protocol.md §12) forbids from them. The transport
 * (`transport.ts`) decides what counts as an offence; this module only counts,
 * remembers and forgets. It reads no clock of its own: every call takes `now`.
 *
 * Invariants:
 * - Memory is bounded whatever peers do: at most `maxTracked` buckets per kind and
 *   strike records, and at most `maxBlocked` blocked peers; a full table forgets
 *   the entry heard from least recently (buckets, strikes) or the block that ends
 *   first (blocklist).
 * - A peer is blocked once it collects `strikesToBlock` strikes within
 *   `strikeWindowMs`; a block lasts `blockMs` and then lapses by itself; its
 *   strikes are forgotten when it is blocked.
 * - A bucket holds at most `burst` tokens and regains `perSecond` a second; a
 *   stream is allowed only if both the peer's and the address's bucket have one.
 */

export interface GuardOptions {
  /** Strikes within the window that block a peer. */
  strikesToBlock: number;
  strikeWindowMs: number;
  /** How long a block lasts. */
  blockMs: number;
  maxBlocked: number;
  /** Bucket and strike records kept per kind. */
  maxTracked: number;
  /** Streams a non-member may open at once, and per second after, from one peer. */
  peerBurst: number;
  peerPerSecond: number;
  /** The same from one remote address (all peers behind it together). */
  addressBurst: number;
  addressPerSecond: number;
}

export const DEFAULT_GUARD: GuardOptions = {
  strikesToBlock: 10,
  strikeWindowMs: 60_000,
  blockMs: 10 * 60_000,
  maxBlocked: 256,
  maxTracked: 1024,
  peerBurst: 32,
  peerPerSecond: 2,
  addressBurst: 128,
  addressPerSecond: 8,
};

export interface BlockedPeer {
  peerId: string;
  /** When the block lapses (ms since the epoch). */
  until: number;
  /** The last offence before the block. */
  reason: string;
}

/** Token buckets keyed by a string, least recently used first (Map order). */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly maxKeys: number,
  ) {}

  /** Takes one token from `key`'s bucket if it has one. */
  take(key: string, now: number): boolean {
    const known = this.buckets.get(key);
    this.buckets.delete(key);
    const tokens = known ? Math.min(this.burst, known.tokens + ((now - known.at) / 1000) * this.perSecond) : this.burst;
    if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    const ok = tokens >= 1;
    this.buckets.set(key, { tokens: ok ? tokens - 1 : tokens, at: now });
    return ok;
  }

  get size(): number {
    return this.buckets.size;
  }
}

export class PeerGuard {
  readonly options: GuardOptions;
  private readonly peerBuckets: TokenBuckets;
  private readonly addressBuckets: TokenBuckets;
  /** Strike times per peer (within the window), least recently struck first. */
  private readonly strikes = new Map<string, number[]>();
  private readonly blocks = new Map<string, BlockedPeer>();

  constructor(
    options: Partial<GuardOptions> = {},
    /** Called once when a peer becomes blocked (the transport closes its connections). */
    private readonly onBlock: (peerId: string) => void = () => {},
  ) {
    this.options = { ...DEFAULT_GUARD, ...options };
    const o = this.options;
    this.peerBuckets = new TokenBuckets(o.peerBurst, o.peerPerSecond, o.maxTracked);
    this.addressBuckets = new TokenBuckets(o.addressBurst, o.addressPerSecond, o.maxTracked);
  }

  /** A non-member opens a stream: both its peer's and its address's bucket must have a token. */
  allowStream(peerId: string, address: string, now: number): boolean {
    const byPeer = this.peerBuckets.take(peerId, now);
    const byAddress = this.addressBuckets.take(address, now);
    return byPeer && byAddress;
  }

  /** Records one offence; true if it got the peer blocked. */
  strike(peerId: string, reason: string, now: number): boolean {
    if (this.isBlocked(peerId, now)) return false;
    const o = this.options;
    const recent = (this.strikes.get(peerId) ?? []).filter((t) => now - t < o.strikeWindowMs);
    recent.push(now);
    this.strikes.delete(peerId);
    if (recent.length < o.strikesToBlock) {
      if (this.strikes.size >= o.maxTracked) this.strikes.delete(this.strikes.keys().next().value!);
      this.strikes.set(peerId, recent);
      return false;
    }
    this.block(peerId, reason, now);
    return true;
  }

  isBlocked(peerId: string, now: number): boolean {
    const b = this.blocks.get(peerId);
    if (!b) return false;
    if (b.until > now) return true;
    this.blocks.delete(peerId);
    return false;
  }

  /** Peers blocked now, the block that lasts longest first. */
  blocked(now: number): BlockedPeer[] {
    for (const [id, b] of this.blocks) if (b.until <= now) this.blocks.delete(id);
    return [...this.blocks.values()].sort((a, b) => b.until - a.until).map((b) => ({ ...b }));
  }

  private block(peerId: string, reason: string, now: number): void {
    if (this.blocks.size >= this.options.maxBlocked) {
      let first: BlockedPeer | undefined;
      for (const b of this.blocks.values()) if (!first || b.until < first.until) first = b;
      if (first) this.blocks.delete(first.peerId);
    }
    this.blocks.set(peerId, { peerId, until: now + this.options.blockMs, reason: reason.slice(0, 160) });
    this.onBlock(peerId);
  }
}
