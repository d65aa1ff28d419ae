// A panel's life on a virtual clock (seed 004): periodic rounds, a member that
// crashes mid-round and is replaced after the timeout, an excluded member that
// is replaced while still online, and a cheater replaced after it is named.
// A small integrator drives the sessions only through their public API, as
// the key table will. Secrecy is checked at the end: a member that left the
// panel opens nothing sent after its replacement began and learns no later key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { remove } from '../../app/fractional/arithmetic.js';
import { toHex } from '../../app/fractional/bytes.js';
import { open, openingKeys } from '../../app/fractional/wire.js';
import type { Identity } from '../unit/fractional/harness.js';
import { identities, PanelNet } from '../unit/fractional/harness.js';

const ROUND_EVERY_MS = 60_000;
const TIMEOUT_MS = 10_000;

/** Reacts to panel events the way an integrator would: replace who times out or cheats. */
class Integrator {
  private readonly spare: Identity[];
  private seen = new Map<string, number>();
  /** Members that left the panel, with the index of the first datagram sent after their replacement began. */
  readonly departed = new Map<string, { seed: Uint8Array; from: number }>();
  readonly keys = new Map<number, Set<string>>();
  recoveries = 0;

  constructor(readonly net: PanelNet) {
    this.spare = identities(4, 'scenario-spare');
  }

  panel(): string[] {
    return this.net.session(this.members()[0]!).panel as string[];
  }

  /** Current panel members that are up. */
  members(): string[] {
    return this.net.live().filter((k) => !this.departed.has(k) && this.net.session(k).status !== 'fresh');
  }

  replace(out: string): void {
    const newcomer = this.spare.shift()!;
    const panel = this.panel().map((k) => (k === out ? newcomer.key : k));
    this.departed.set(out, { seed: this.net.seeds.get(out)!, from: this.net.sent.length });
    this.net.add(newcomer, panel, { processTimeoutMs: TIMEOUT_MS, label: 'scenario' });
    this.net.session(newcomer.key).startRecovery(out, newcomer.key, this.net.now);
    for (const k of panel.filter((k) => k !== newcomer.key)) this.net.session(k).startRecovery(out, newcomer.key, this.net.now);
    this.net.run();
    this.recoveries++;
  }

  /** Reads the new events of every member; returns members to replace. */
  react(): string[] {
    const replaceThem = new Set<string>();
    for (const [k, events] of this.net.events) {
      const from = this.seen.get(k) ?? 0;
      this.seen.set(k, events.length);
      if (this.departed.has(k)) continue;
      for (const e of events.slice(from)) {
        if (e.type === 'round-complete') {
          if (!this.keys.has(e.round)) this.keys.set(e.round, new Set());
          this.keys.get(e.round)!.add(toHex(e.key));
        }
        if (e.type === 'failed' && e.reason === 'timeout') e.missing.forEach((m) => replaceThem.add(m));
        if (e.type === 'cheater') replaceThem.add(e.member);
      }
    }
    return [...replaceThem];
  }

  /** Lets virtual time pass in one-second steps, ticking sessions and replacing failed members. */
  wait(ms: number): void {
    for (let t = 0; t < ms; t += 1_000) {
      this.net.advance(1_000);
      this.net.run();
      for (const out of this.react()) if (!this.departed.has(out)) this.replace(out);
    }
  }

  round(): void {
    this.net.session(this.members()[0]!).startRound(this.net.now);
    this.net.run();
    this.react();
    this.wait(ROUND_EVERY_MS);
  }
}

test('scenario: rounds, a crash mid-round, an exclusion and a cheater; every change of panel is recovered, nothing leaks', () => {
  const ids = identities(6, 'scenario');
  const net = new PanelNet(ids, { processTimeoutMs: TIMEOUT_MS, label: 'scenario', shuffle: 'scenario' });
  const it = new Integrator(net);
  net.session(ids[0]!.key).startInitialization(net.now);
  net.run();
  for (const id of ids) assert.equal(net.eventsOf(id.key, 'initialized').length, 1);

  it.round();
  it.round();

  // Member 3 crashes after its commitments left, before its reveals.
  const crashed = ids[3]!.key;
  net.intercept = (m) => {
    if (m.from !== crashed || net.decode(m).body.kind !== 'reveal') return m.bytes;
    net.down.add(crashed);
    return null;
  };
  it.round();
  net.intercept = null;
  assert.ok(it.departed.has(crashed), 'the crashed member was replaced after its timeout');
  it.round();

  // Member 5 is excluded by the group: replaced while still online.
  const excluded = ids[5]!.key;
  it.replace(excluded);
  it.round();

  // Member 1 cheats in a round: a reveal that does not match its commitment.
  const cheater = ids[1]!.key;
  net.intercept = (m) =>
    m.from === cheater && net.decode(m).body.kind === 'reveal'
      ? net.forge(m, (x) => (x.body.kind === 'reveal' ? { ...x, body: { ...x.body, hfk: remove(x.body.hfk, 1n) } } : x))
      : m.bytes;
  it.round();
  net.intercept = null;
  assert.ok(it.departed.has(cheater), 'the named cheater was replaced');
  it.round();

  // Every completed round gave one key to everyone on the panel at the time.
  assert.ok(it.keys.size >= 5, `rounds completed: ${it.keys.size}`);
  for (const [round, keys] of it.keys) assert.equal(keys.size, 1, `round ${round}`);
  assert.equal(it.recoveries, 3);
  assert.equal(it.members().length, 6);

  // No secrecy violation: departed members open nothing sent after they left and learn no later key.
  const lastRound = Math.max(...it.keys.keys());
  for (const [member, { seed, from }] of it.departed) {
    const keys = openingKeys(nobleCrypto, seed);
    for (const m of net.sent.slice(from)) assert.equal(open(nobleCrypto, keys, m.bytes).ok, false, 'a departed member opened a datagram');
    const learned = net.eventsOf(member, 'round-complete').map((e) => toHex(e.key));
    assert.ok(!learned.includes([...it.keys.get(lastRound)!][0]!), 'a departed member has the latest key');
  }
});
