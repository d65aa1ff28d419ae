// Panel hooks (`FractionalPanel`, app/fractional/panel-hook.ts) wired to each other over an
// in-memory network with a clock of its own: the harness of fractional-hook.test.ts and of the
// panel attack tests (attacks/review31-panel.test.ts).
import assert from 'node:assert/strict';
import type { MemberKey, PanelHookEvent, PanelView } from '../../../app/core/types.js';
import { nobleCrypto } from '../../../app/crypto/noble.js';
import { FractionalPanel } from '../../../app/fractional/panel-hook.js';
import { decodeFrame, TAG_DATA, type Frame } from '../../../app/fractional/panel-frames.js';
import { decodeSigned, open, openingKeys, type PanelMessage } from '../../../app/fractional/wire.js';
import { identities, seededRng, type Identity } from './harness.js';

export const TIMEOUT = 5_000;
export const FORM_DELAY = 1_000;

export class HookNet {
  readonly hooks = new Map<MemberKey, FractionalPanel>();
  readonly events = new Map<MemberKey, PanelHookEvent[]>();
  readonly queue: { from: MemberKey; to: MemberKey; bytes: Uint8Array }[] = [];
  /** Everything delivered, by recipient. */
  readonly received = new Map<MemberKey, number>();
  readonly down = new Set<MemberKey>();
  now = 1_000_000;
  members: { key: MemberKey; admittedAt: number }[];
  blocked: MemberKey[] = [];
  /** Return null to drop a frame, or other bytes to deliver instead. */
  intercept: ((m: { from: MemberKey; to: MemberKey; bytes: Uint8Array }) => Uint8Array | null) | null = null;

  constructor(
    readonly ids: Identity[],
    readonly panelSize = 5,
    admittedAt: (i: number) => number = (i) => 1000 + i,
  ) {
    this.members = ids.map((m, i) => ({ key: m.key, admittedAt: admittedAt(i) }));
    for (const [i, m] of ids.entries()) {
      this.hooks.set(m.key, new FractionalPanel({ crypto: nobleCrypto, rng: seededRng(`hook/${i}`) }, m.seed, { processTimeoutMs: TIMEOUT, formDelayMs: FORM_DELAY }));
      this.events.set(m.key, []);
    }
  }

  view(self: MemberKey): PanelView {
    return { self, members: this.members.map((m) => ({ ...m })), blocked: [...this.blocked], panelSize: this.panelSize };
  }

  /** Hands every live hook the current view (the engine does it when membership changes). */
  updateAll(): void {
    for (const [k, h] of this.hooks) if (!this.down.has(k) && this.members.some((m) => m.key === k)) h.update(this.view(k), this.now);
    this.collect();
  }

  collect(): void {
    for (const [k, h] of this.hooks) {
      for (let t = h.pollTransmit(); t; t = h.pollTransmit()) if (!this.down.has(k)) this.queue.push({ from: k, to: t.to, bytes: t.bytes });
      for (let e = h.pollEvent(); e; e = h.pollEvent()) this.events.get(k)!.push(e);
    }
  }

  /** Sends raw bytes as `from` (the transport authenticates the sender: an insider sends as itself). */
  inject(from: MemberKey, to: MemberKey, bytes: Uint8Array): void {
    this.queue.push({ from, to, bytes });
  }

  /** Delivers until the network is quiet (each hop takes 10 ms). */
  settle(): void {
    for (let steps = 0; this.queue.length > 0; steps++) {
      assert.ok(steps < 100_000, 'the panel does not settle');
      const m = this.queue.shift()!;
      this.now += 10;
      if (this.down.has(m.to)) continue;
      const bytes = this.intercept ? this.intercept(m) : m.bytes;
      if (bytes === null) continue;
      this.received.set(m.to, (this.received.get(m.to) ?? 0) + 1);
      this.hooks.get(m.to)!.receive(m.from, bytes, this.now);
      this.collect();
    }
  }

  /** Moves the clock to `at`, ticking every hook whose deadline passed, then settles. */
  advance(by: number): void {
    const until = this.now + by;
    for (;;) {
      const due = [...this.hooks].filter(([k]) => !this.down.has(k)).map(([k, h]) => [k, h.nextDeadline()] as const).filter(([, d]) => d !== null && d <= until);
      if (due.length === 0) break;
      const at = Math.max(this.now, Math.min(...due.map(([, d]) => d!)));
      this.now = at;
      for (const [k, d] of due) if (d! <= at) this.hooks.get(k)!.tick(at);
      this.collect();
      this.settle();
    }
    this.now = Math.max(this.now, until);
  }

  hook(i: number): FractionalPanel {
    return this.hooks.get(this.ids[i]!.key)!;
  }

  key(i: number): MemberKey {
    return this.ids[i]!.key;
  }

  live(): [MemberKey, FractionalPanel][] {
    return [...this.hooks].filter(([k]) => !this.down.has(k) && this.members.some((m) => m.key === k) && !this.blocked.includes(k));
  }

  /** Every panel member's view of the ready round; they must agree. */
  readyRound(): number | null {
    const rounds = new Set(this.live().filter(([, h]) => h.panel).map(([, h]) => h.readyRound));
    assert.equal(rounds.size, 1, `panel members disagree on the ready round: ${[...rounds].join(', ')}`);
    return [...rounds][0]!;
  }

  /** What each live hook hands out now (the engine calls this for a new TEK version), then `consumed` everywhere. */
  takeAll(excluded: MemberKey[] = []): Map<MemberKey, { key: Uint8Array; round: number; members: MemberKey[] } | null> {
    const out = new Map<MemberKey, { key: Uint8Array; round: number; members: MemberKey[] } | null>();
    for (const [k, h] of this.live()) out.set(k, h.takeKey('refresh', excluded, this.now));
    return out;
  }

  consumeAll(round: number, members: MemberKey[]): void {
    for (const [, h] of this.live()) h.consumed(round, members, this.now);
    this.collect();
    this.settle();
  }

  texts(kind: PanelHookEvent['kind']): string[] {
    return [...this.events.values()].flat().filter((e) => e.kind === kind).map((e) => e.text);
  }
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export function started(n = 7, panelSize = 5, admittedAt?: (i: number) => number): HookNet {
  const net = new HookNet(identities(n, 'hook'), panelSize, admittedAt);
  net.updateAll();
  net.advance(FORM_DELAY + 500);
  return net;
}


/** A data frame opened with its recipient's seed (tests know every seed): the frame and the session message inside, or null. */
export function openedFrame(recipientSeed: Uint8Array, bytes: Uint8Array): { frame: Extract<Frame, { tag: typeof TAG_DATA }>; message: PanelMessage } | null {
  const frame = decodeFrame(bytes);
  if (!frame || frame.tag !== TAG_DATA) return null;
  const plain = open(nobleCrypto, openingKeys(nobleCrypto, recipientSeed), frame.bytes);
  const decoded = plain.ok ? decodeSigned(nobleCrypto, plain.value) : null;
  return decoded?.ok ? { frame, message: decoded.value } : null;
}
