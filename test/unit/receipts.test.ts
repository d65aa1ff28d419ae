/**
 * Delivery receipts (issue 18 §7, issue 19 §3; app/peer/receipts.ts, docs/
 * protocol.md §13.2): the wire form and its checks, the reporter (only what is
 * on disk, only what is new), the author's ledger (only ever raised; forged,
 * replayed and non-member receipts change nothing), and the history's delivery
 * state across a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkReceipt, DeliveryLedger, Receipt, RECEIPT_LIMITS, ReceiptClock, receiptIntervalMs, ReceiptReporter, makeReceipt, type ReceiptContext, type ReceiptEntry } from '../../app/peer/receipts.js';
import { decodePayload, encodePayload, signMessage } from '../../app/peer/payload.js';
import { SeqRanges } from '../../app/peer/seq-ranges.js';
import { GroupHistory } from '../../app/peer/history.js';
import { Profile } from '../../app/store/profile.js';
import type { ChatMessage } from '../../app/api/contract.js';
import { signer } from './signers.js';
import { soloRuntime } from './solo-runtime.js';
import { decodeMessage, type Message, type MsgType } from '../../app/core/wire.js';
import type { EngineEvent } from '../../app/core/types.js';

type DataPacketEvent = Extract<Message, { type: typeof MsgType.Data }>;

const G = '22'.repeat(16);
const alice = signer(1);
const bob = signer(2);
const carol = signer(3);
const mallory = signer(4);
const roster: Record<string, 'member' | 'excluded' | 'left'> = { [alice.key]: 'member', [bob.key]: 'member', [carol.key]: 'member', [mallory.key]: 'excluded' };
const ctx: ReceiptContext = { rosterState: (k) => roster[k] };

test('receipt: round-trips through the payload codec and is taken live from its reporter', () => {
  const r = makeReceipt(bob.key, 1000, [[alice.key, 1, 5]]);
  const decoded = decodePayload(encodePayload({ v: 2, t: 'rcpt', r }));
  assert.ok(decoded && decoded.t === 'rcpt');
  assert.deepEqual(checkReceipt(ctx, decoded.r, bob.key, 'live'), { ok: true, entries: [[alice.key, 1, 5]] });
});

test('receipt: hostile input gets a typed rejection', () => {
  const r = makeReceipt(bob.key, 1000, [[alice.key, 1, 5]]);
  // carried by someone else than its reporter (the transport authenticated carol, not bob)
  const carried = checkReceipt(ctx, r, carol.key, 'live');
  assert.equal(!carried.ok && carried.reason, 'invalid');
  // credited to bob by a catch-up server: never a receipt's path
  const served = checkReceipt(ctx, r, bob.key, 'catch-up');
  assert.equal(!served.ok && served.reason, 'not-authorized');
  // an excluded member, an unknown key
  const excluded = checkReceipt(ctx, makeReceipt(mallory.key, 1000, [[alice.key, 1, 5]]), mallory.key, 'live');
  assert.equal(!excluded.ok && excluded.reason, 'not-member');
  const stranger = signer(9);
  const unknown = checkReceipt(ctx, makeReceipt(stranger.key, 1000, [[alice.key, 1, 5]]), stranger.key, 'live');
  assert.equal(!unknown.ok && unknown.reason, 'not-member');
  // reversed range, an author twice
  const reversed = checkReceipt(ctx, makeReceipt(bob.key, 1000, [[alice.key, 5, 1]]), bob.key, 'live');
  assert.equal(!reversed.ok && reversed.reason, 'invalid');
  const twice = checkReceipt(ctx, makeReceipt(bob.key, 1000, [[alice.key, 1, 2], [alice.key, 4, 5]]), bob.key, 'live');
  assert.equal(!twice.ok && twice.reason, 'invalid');
  // bounds: the schema refuses more than 256 authors, empty receipts, numbers out of range, a signature field (none exists)
  const many: ReceiptEntry[] = Array.from({ length: RECEIPT_LIMITS.authors + 1 }, (_, i) => [i.toString(16).padStart(64, '0'), 1, 1]);
  assert.throws(() => makeReceipt(bob.key, 1000, many), RangeError);
  assert.equal(Receipt.safeParse({ ...r, h: many }).success, false);
  assert.equal(Receipt.safeParse({ ...r, h: [] }).success, false);
  assert.equal(Receipt.safeParse({ ...r, h: [[alice.key, 0, 1]] }).success, false);
  assert.equal(Receipt.safeParse({ ...r, h: [[alice.key, 1, 2 ** 49]] }).success, false);
  assert.equal(Receipt.safeParse({ ...r, extra: 1 }).success, false);
});

test('reporter: only what is on disk and new, one run per author (the one holding the highest number), at most the limit', () => {
  const rep = new ReceiptReporter(bob.key);
  rep.seed(alice.key, SeqRanges.of([[1, 3]]));
  assert.equal(rep.pending, false, 'what was read back at start is not new');
  rep.durable(bob.key, 1);
  assert.equal(rep.pending, false, 'own messages are not reported');
  rep.durable(alice.key, 5);
  assert.deepEqual(rep.take(), [[alice.key, 5, 5]], 'a gap at 4: only the run holding the highest is claimed');
  assert.equal(rep.pending, false);
  rep.durable(alice.key, 4);
  assert.deepEqual(rep.take(), [[alice.key, 1, 5]]);
  rep.durable(carol.key, 9, [1, 8]); // carol declared 1..8 unused
  rep.durable(alice.key, 6);
  assert.deepEqual(rep.take(1).length, 1);
  assert.equal(rep.pending, true, 'what did not fit waits for the next receipt');
  assert.equal(rep.take().length, 1);
  const rep2 = new ReceiptReporter(bob.key);
  rep2.durable(carol.key, 9, [1, 8]);
  assert.deepEqual(rep2.take(), [[carol.key, 1, 9]]);
});

test('ledger: counts only ever rise; replays, claims beyond what was sent and non-recipients change nothing; bounded', () => {
  const l = new DeliveryLedger();
  l.sent(1, [bob.key, carol.key]);
  l.sent(2, [bob.key, carol.key]);
  const member = () => true;
  assert.deepEqual(l.delivery(1, member), { state: 'sent', delivered: 0, members: 2 });
  assert.deepEqual(l.confirm(bob.key, 1, 1), [1]);
  assert.deepEqual(l.delivery(1, member), { state: 'delivered', delivered: 1, members: 2 });
  assert.deepEqual(l.confirm(bob.key, 1, 1), [], 'a replay raises nothing');
  assert.deepEqual(l.confirm(bob.key, 1, 99), [2], 'claims beyond the highest sent are cut there');
  l.sent(3, [bob.key, carol.key]);
  assert.deepEqual(l.delivery(3, member), { state: 'sent', delivered: 0, members: 2 }, 'the cut claim does not cover a later message');
  assert.deepEqual(l.confirm(mallory.key, 1, 3), [], 'not a recipient');
  assert.deepEqual(l.confirm(carol.key, 1, 2), [1, 2]);
  assert.deepEqual(l.delivery(2, member), { state: 'delivered', delivered: 2, members: 2 });
  // an older, smaller receipt arriving late lowers nothing
  assert.deepEqual(l.confirm(carol.key, 1, 1), []);
  assert.deepEqual(l.delivery(2, member), { state: 'delivered', delivered: 2, members: 2 });
  // a recipient that left and never confirmed stops counting in `members`
  assert.deepEqual(l.delivery(3, (k) => k !== carol.key), { state: 'sent', delivered: 0, members: 1 });
  // a lying member fragments its confirmations: kept to maxRanges
  for (let s = 4; s < 400; s++) l.sent(s, [mallory.key]);
  for (let s = 4; s < 400; s += 2) l.confirm(mallory.key, s, s);
  assert.ok(l.ranges(mallory.key).length <= RECEIPT_LIMITS.maxRanges);
});

const sink = () => {
  const got: { event: string; payload: unknown }[] = [];
  return { got, emit: (event: string, payload: unknown) => void got.push({ event, payload }) };
};

test('history: own messages carry their delivery; receipts raise it with chat.update; kept across a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-rcpt-'));
  let p = Profile.open(dir);
  const events = sink();
  let h = new GroupHistory(p, G, alice.key, events);
  let durable = 0;
  h.onDurable = () => void durable++;
  const s = h.takeOwnSeq().s;
  const m = signMessage(G, alice, { s, k: 1, at: 1000, id: 'ab'.repeat(16) }, { t: 'chat', text: 'hi', name: 'Alice' });
  h.keep(m, 'alice-peer', 'Alice', 1000, [bob.key, carol.key]);
  await h.durable();
  assert.equal(durable, 1);
  assert.deepEqual(h.message(m.id)?.delivery, { state: 'sent', delivered: 0, members: 2 });
  h.confirmed(bob.key, [[bob.key, 1, 4], [alice.key, s, s]]);
  const updates = events.got.filter((e) => e.event === 'chat.update').map((e) => e.payload as ChatMessage);
  assert.deepEqual(updates.at(-1)?.delivery, { state: 'delivered', delivered: 1, members: 2 });
  h.confirmed(bob.key, [[alice.key, s, s]]);
  assert.equal(events.got.filter((e) => e.event === 'chat.update').length, 1, 'a replayed receipt emits nothing');
  // Others' messages carry no delivery state.
  const b = signMessage(G, bob, { s: 1, k: 1, at: 1001, id: 'cd'.repeat(16) }, { t: 'chat', text: 'yo', name: 'Bob' });
  h.keep(b, 'bob-peer', 'Bob', 1001);
  await h.durable();
  assert.equal(h.message(b.id)?.delivery, undefined);
  h.releaseOwnSeqs();
  p.close();
  p = Profile.open(dir);
  h = new GroupHistory(p, G, alice.key, sink());
  assert.deepEqual(h.message(m.id)?.delivery, { state: 'delivered', delivered: 1, members: 2 }, 'recipients and confirmations come back from disk');
  assert.equal(h.reporter.pending, false);
  p.close();
});

test('history: a receipt naming messages past the last held opens a gap (bounded, expiring); nothing for this member or an author none of whose messages is held', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-hint-'));
  const p = Profile.open(dir);
  const h = new GroupHistory(p, G, alice.key, sink());
  const keep = (who: typeof bob, s: number, skip?: [number, number]) =>
    h.keep(signMessage(G, who, { s, k: 1, at: 1000 + s, id: s.toString(16).padStart(32, who === bob ? 'b' : 'c'), ...(skip ? { skip } : {}) }, { t: 'chat', text: `m${s}`, name: 'x' }), 'peer', 'X', 2000 + s);
  for (const s of [1, 2, 3]) keep(bob, s);
  await h.durable();
  const now = 10_000;
  assert.deepEqual(h.gaps(64, now), [], 'no later message shows bob 4..6');
  assert.equal(h.hint(bob.key, 6, now), true, 'a receipt from a fellow member shows them');
  assert.deepEqual(h.gaps(64, now), [{ author: bob.key, missing: [[4, 6]] }]);
  assert.equal(h.hint(bob.key, 5, now), false, 'a lower or equal claim adds nothing');
  assert.equal(h.hint(alice.key, 9, now), false, "never about this member's own numbers");
  assert.equal(h.hint(carol.key, 9, now), false, 'nor an author none of whose messages is held (all may predate the admission)');
  assert.deepEqual(h.gaps(64, now + 30_001), [], 'a hint nobody fills expires');
  assert.equal(h.hint(bob.key, 2 ** 40, now), true);
  assert.equal(SeqRanges.count(h.gaps(64, now)[0]!.missing), 10_000, 'a lying receipt reaches at most 10,000 numbers past the last held');
  // Filled: the gap closes.
  keep(bob, 4);
  keep(bob, 5);
  keep(bob, 6, [5, 6]);
  assert.equal(h.hint(bob.key, 6, now + 40_000), false, 'held now');
  await h.durable();
  p.close();
});

test('clock: a member sends at most one receipt per max(2 s, 300 ms × members), so a group of fifty sends about three a second in all', (t) => {
  assert.equal(receiptIntervalMs(2), 2000);
  assert.equal(receiptIntervalMs(6), 2000);
  assert.equal(receiptIntervalMs(10), 3000);
  assert.equal(receiptIntervalMs(50), 15000);
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let now = 0;
  let members = 50;
  const sent: number[] = [];
  const clock = new ReceiptClock({ now: () => now, send: () => sent.push(now), intervalMs: () => receiptIntervalMs(members) });
  const advance = (ms: number) => {
    now += ms;
    t.mock.timers.tick(ms);
  };
  clock.poke();
  advance(0);
  assert.deepEqual(sent, [0], 'the first receipt goes at once');
  advance(100);
  clock.poke();
  advance(3000);
  assert.deepEqual(sent, [0], 'fifty members: not 3 s after the last one');
  advance(11900);
  assert.deepEqual(sent, [0, 15000], 'fifty members: 15 s after the last one');
  members = 6;
  clock.poke();
  advance(1999);
  assert.deepEqual(sent, [0, 15000]);
  advance(1);
  assert.deepEqual(sent, [0, 15000, 17000], 'six members: 2 s, read at the poke');
  clock.stop();
});

test('a receipt fed by catch-up is refused: a catch-up server names each packet\'s sender itself, so only the live transport authenticates a receipt', async () => {
  // Receipts carry no signature of their own (§13.2): gossipsub's StrictSign signature, by
  // the same identity key, or the Noise stream authenticates the member that carried one.
  // Catch-up input is the exception (catch-up.ts feed: the sender is the server's word), and
  // reconciliation never serves a receipt, so one arriving that way is a forgery.
  const clock = { now: 1_700_000_000_000 };
  const { rt, key, done } = soloRuntime({ now: () => clock.now, emit: () => undefined });
  try {
    await rt.sendChat('own');
    const groupBytes = Buffer.from(rt.group, 'hex');
    const packet = rt.trafficLog.select({}, 0, 0, 10, 1e9).items[0]!.bytes;
    const r = { a: key, at: clock.now, h: [[key, 1, 1]] as ReceiptEntry[] };
    const payload = encodePayload({ v: 2, t: 'rcpt', r: makeReceipt(r.a, r.at, r.h) });
    const receiptEvent = (): EngineEvent => ({ type: 'data', from: key, payload, sentAt: clock.now, tekVersion: 1, at: clock.now, packet: decodeMessage(groupBytes, 'data', packet) as DataPacketEvent });
    const poll = rt.engine.pollEvent.bind(rt.engine);
    const refusals = () => rt.rejections.list().filter((x) => /receipt/.test(x.detail)).reduce((s, x) => s + x.count, 0);
    const queued: EngineEvent[] = [receiptEvent()];
    rt.engine.pollEvent = () => queued.shift() ?? poll();
    rt.receive(key, 'data', packet, true);
    assert.equal(refusals(), 1, 'the receipt fed by catch-up is refused');
    assert.ok(rt.rejections.list().some((x) => /catch-up/.test(x.detail)), 'and the refusal says why');
  } finally {
    done();
  }
});
