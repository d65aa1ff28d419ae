/**
 * Sender authenticity and reconciliation bookkeeping (issue 15 §3, issue 19 §1):
 * payload.ts signatures, authorship.ts checks, board.ts without clocks,
 * seq-ranges.ts, history.ts numbering across crashes, traffic.ts selection.
 * Each attack first as the test that shows it refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { nodeCrypto } from '../../app/crypto/node.js';
import { signMessage, verifyMessage, type Body, type SignedMessage } from '../../app/peer/payload.js';
import { checkAuthorship, MAX_FUTURE_MS, type AuthorshipContext } from '../../app/peer/authorship.js';
import { boardState, type BoardItem } from '../../app/peer/board.js';
import { SeqRanges } from '../../app/peer/seq-ranges.js';
import { GroupHistory } from '../../app/peer/history.js';
import { TrafficLog } from '../../app/peer/traffic.js';
import { Profile } from '../../app/store/profile.js';
import type { Stroke } from '../../app/api/contract.js';
import { signer } from './signers.js';

const G = '11'.repeat(16);
const alice = signer(1);
const bob = signer(2);
const mallory = signer(3);
const chat = (text: string): Body => ({ t: 'chat', text, name: 'n' });
let idn = 0;
const nextId = () => (++idn).toString(16).padStart(32, '0');
const sign = (who: ReturnType<typeof signer>, s: number, body: Body, extra: { k?: number; at?: number; skip?: [number, number] } = {}): SignedMessage =>
  signMessage(G, who, { s, k: extra.k ?? 3, at: extra.at ?? 1000, id: nextId(), ...(extra.skip ? { skip: extra.skip } : {}) }, body);

const roster: Record<string, 'member' | 'excluded' | 'left'> = { [alice.key]: 'member', [bob.key]: 'member', [mallory.key]: 'excluded' };
const ctx: AuthorshipContext = { group: G, crypto: nodeCrypto, rosterState: (k) => roster[k], now: 1000 };

test('a signature covers group, author, number, TEK version, time, ID, skip and body', () => {
  const m = sign(alice, 7, chat('hi'));
  assert.equal(verifyMessage(nodeCrypto, G, m).ok, true);
  const tampered: SignedMessage[] = [
    { ...m, b: JSON.stringify(chat('HI')) },
    { ...m, s: 8 },
    { ...m, k: 4 },
    { ...m, at: 999 },
    { ...m, id: nextId() },
    { ...m, skip: [1, 2] },
    { ...m, a: bob.key },
  ];
  for (const t of tampered) assert.equal(verifyMessage(nodeCrypto, G, t).ok, false);
  assert.equal(verifyMessage(nodeCrypto, '22'.repeat(16), m).ok, false, 'another group');
});

test('attack: posting as another member is refused (carried, forged, re-shared)', () => {
  // Bob carries a message claiming Alice wrote it, signed by Bob: refused.
  const forged = { ...sign(bob, 1, chat('I am alice')), a: alice.key };
  const v1 = checkAuthorship(ctx, forged, { from: bob.key, tekVersion: 3, boardShare: false });
  assert.equal(v1.ok, false);
  // Alice's genuine message carried by Bob as his own packet: refused (catch-up serves the author's packet, not a re-wrap).
  const genuine = sign(alice, 1, chat('real'));
  assert.deepEqual(checkAuthorship(ctx, genuine, { from: bob.key, tekVersion: 3, boardShare: false }).ok, false);
  assert.equal(checkAuthorship(ctx, genuine, { from: alice.key, tekVersion: 3, boardShare: false }).ok, true);
  // A re-shared stroke with a forged signature: refused; a genuine one: kept.
  const stroke = sign(alice, 2, { t: 'stroke', stroke: pen('s1') });
  assert.equal(checkAuthorship(ctx, stroke, { from: bob.key, tekVersion: 3, boardShare: true }).ok, true);
  const v2 = checkAuthorship(ctx, { ...stroke, at: 1 }, { from: bob.key, tekVersion: 3, boardShare: true });
  assert.equal(!v2.ok && v2.reason, 'bad-signature');
  // A board re-share carrying chat: refused.
  assert.equal(checkAuthorship(ctx, genuine, { from: bob.key, tekVersion: 3, boardShare: true }).ok, false);
});

test('attack: an excluded or unknown author, a future time, a TEK version above the packet are refused', () => {
  const v = checkAuthorship(ctx, sign(mallory, 1, chat('x')), { from: mallory.key, tekVersion: 3, boardShare: false });
  assert.equal(!v.ok && v.reason, 'not-member');
  const stranger = signer(9);
  const s = checkAuthorship(ctx, sign(stranger, 1, chat('x')), { from: stranger.key, tekVersion: 3, boardShare: false });
  assert.equal(!s.ok && s.reason, 'not-member');
  const future = checkAuthorship(ctx, sign(alice, 1, chat('x'), { at: 1000 + MAX_FUTURE_MS + 1 }), { from: alice.key, tekVersion: 3, boardShare: false });
  assert.equal(!future.ok && future.reason, 'invalid');
  const above = checkAuthorship(ctx, sign(alice, 1, chat('x'), { k: 4 }), { from: alice.key, tekVersion: 3, boardShare: false });
  assert.equal(above.ok, false);
  assert.equal(checkAuthorship(ctx, sign(alice, 1, chat('x'), { k: 2 }), { from: alice.key, tekVersion: 3, boardShare: false }).ok, true, 'held for a reseal: a later TEK is fine');
});

function pen(id: string): Stroke {
  return { id, color: '#112233', width: 2, tool: 'pen', points: [{ x: 1, y: 2 }] };
}
const item = (author: string, seq: number, stroke: Stroke, sentAt: number, seen?: Record<string, number>): BoardItem => ({ group: G, sender: author.slice(0, 8), stroke, sentAt, author, seq, ...(seen ? { seen } : {}) });

test('attack: a clear dated in the future removes only the strokes its author had seen', () => {
  const items = [
    item(alice.key, 1, pen('a1'), 10),
    item(bob.key, 1, pen('b1'), 20),
    // Bob's clear, dated far in the future, had seen Alice's 1 and his own 1.
    item(bob.key, 2, { ...pen('c'), tool: 'clear', points: [] }, 9e12, { [alice.key]: 1, [bob.key]: 1 }),
    item(alice.key, 2, pen('a2'), 30),
    item(bob.key, 3, pen('b3'), 40),
    item(alice.key, 3, { ...pen('u'), tool: 'undo', points: [], target: 'a2' }, 50),
    item(alice.key, 4, pen('a4'), 60),
  ];
  const ids = (b: BoardItem[]) => b.map((s) => s.stroke.id);
  assert.deepEqual(ids(boardState(items)), ['b3', 'a4']);
  fc.assert(fc.property(fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length }), (shuffled) => assert.deepEqual(ids(boardState(shuffled)), ['b3', 'a4'])));
});

test('sequence ranges: add, merge, missing', () => {
  const r = new SeqRanges();
  for (const n of [1, 2, 3, 7, 5, 9, 8]) r.add(n);
  assert.deepEqual(r.list(), [[1, 3], [5, 5], [7, 9]]);
  assert.equal(r.has(5) && !r.has(6) && r.has(9), true);
  assert.deepEqual(r.missing(12, SeqRanges.of([[6, 6]]), 10), [[4, 4], [10, 12]]);
  assert.deepEqual(r.missing(12, undefined, 1), [[4, 4]]);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 60 })), (ns) => {
      const set = new SeqRanges();
      for (const n of ns) set.add(n);
      for (let n = 1; n <= 60; n++) assert.equal(set.has(n), ns.includes(n));
      const list = set.list();
      for (let i = 1; i < list.length; i++) assert.ok(list[i]![0] > list[i - 1]![1] + 1);
    }),
  );
});

const sink = () => {
  const got: { event: string; payload: unknown }[] = [];
  return { got, emit: (event: string, payload: unknown) => void got.push({ event, payload }) };
};

test('history: kept once, equivocation refused, gaps seen, a crash declares what it may have skipped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-hist-'));
  let p = Profile.open(dir);
  const events = sink();
  let h = new GroupHistory(p, G, alice.key, events);
  assert.deepEqual(h.takeOwnSeq(), { s: 1 });
  assert.deepEqual(h.takeOwnSeq(), { s: 2 });
  const m1 = sign(bob, 1, chat('one'));
  assert.equal(h.keep(m1, 'bob', 'Bob', 5), 'kept');
  assert.equal(h.keep(m1, 'bob', 'Bob', 6), 'duplicate');
  assert.equal(h.keep(sign(bob, 1, chat('other')), 'bob', 'Bob', 6), 'equivocation');
  assert.equal(h.keep(sign(bob, 4, chat('four')), 'bob', 'Bob', 7), 'kept');
  assert.deepEqual(h.gaps(), [{ author: bob.key, missing: [[2, 3]] }]);
  await h.durable(); // clients hear of a message once it is on disk
  assert.equal(events.got.filter((e) => e.event === 'chat.message').length, 2, 'refused and duplicate messages never reach clients');
  // Bob crashed after 4 and declares 5–9 maybe unused: no gap there.
  assert.equal(h.keep(sign(bob, 10, chat('ten'), { skip: [5, 9] }), 'bob', 'Bob', 8), 'kept');
  assert.deepEqual(h.gaps(), [{ author: bob.key, missing: [[2, 3]] }]);
  // kill -9: no release. The next run never reuses a number and declares the reserved ones.
  p.close();
  p = Profile.open(dir);
  h = new GroupHistory(p, G, alice.key, sink());
  const after = h.takeOwnSeq();
  assert.ok(after.s > 2 && after.skip !== undefined && after.skip[0] === 1 && after.skip[1] === after.s - 1, JSON.stringify(after));
  assert.equal(h.chatHistory(10).length, 3);
  // A clean stop releases the reservation: no skip next time.
  h.releaseOwnSeqs();
  p.close();
  p = Profile.open(dir);
  h = new GroupHistory(p, G, alice.key, sink());
  assert.deepEqual(h.takeOwnSeq(), { s: after.s + 1 });
  p.close();
});

test('traffic: select answers a summary with what is lacking, within count and bytes, resumable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-traffic-'));
  const p = Profile.open(dir);
  const t = new TrafficLog(p, G, 100);
  for (let s = 1; s <= 30; s++) t.keep({ from: alice.key, bytes: new Uint8Array(100).fill(s), at: s, tag: { a: alice.key, s, k: s <= 10 ? 1 : 2 } });
  t.keep({ from: bob.key, bytes: new Uint8Array(50).fill(99), at: 31, tag: null });
  const have = { [alice.key]: [[1, 20] as [number, number]] };
  const all = t.select(have, 0, 0, 100, 1e6);
  assert.equal(all.items.length, 11, '21..30 and the untagged one');
  const first = t.select(have, 0, 0, 4, 1e6);
  assert.equal(first.items.length, 4);
  assert.equal(first.total, 11);
  const second = t.select(have, 0, first.next, 100, 1e6);
  assert.deepEqual(second.items.map((i) => i.tag?.s ?? 0), [25, 26, 27, 28, 29, 30, 0]);
  assert.equal(t.select(have, 0, 0, 100, 350).items.length, 3, 'the byte budget holds');
  assert.equal(t.select({}, 2, 0, 100, 1e6).items.length, 21, 'nothing under a TEK the asker cannot read');
  p.close();
});

test('catch-up frames are checked by schema; summaries are bounded', async () => {
  const { CatchUpRequest, CatchUpHeader, boundedSummary } = await import('../../app/peer/catch-up.js');
  const ok = { v: 2, group: G, have: { [alice.key]: [[1, 5]] }, minTek: 0, cursor: 0 };
  assert.equal(CatchUpRequest.safeParse(ok).success, true);
  for (const bad of [
    { ...ok, v: 1 },
    { ...ok, since: 0 },
    { ...ok, have: { [alice.key]: [[5, 1]] } },
    { ...ok, have: { [alice.key]: [[0, 1]] } },
    { ...ok, have: { nothex: [[1, 1]] } },
    { ...ok, cursor: -1 },
    { group: G, since: 0 },
  ]) {
    assert.equal(CatchUpRequest.safeParse(bad).success, false, JSON.stringify(bad));
  }
  assert.equal(CatchUpHeader.safeParse({ v: 2, ok: true, epoch: 'ab'.repeat(8), next: 3, total: 9 }).success, true);
  assert.equal(CatchUpHeader.safeParse({ v: 2, refused: 'rate', retryAfterMs: 100 }).success, true);
  assert.equal(CatchUpHeader.safeParse({ v: 2, refused: 'because' }).success, false);
  const many: Record<string, [number, number][]> = { [alice.key]: Array.from({ length: 3000 }, (_, i): [number, number] => [2 * i + 1, 2 * i + 1]) };
  const b = boundedSummary(many, 1500);
  assert.equal(b[alice.key]!.length, 1500);
  assert.deepEqual(b[alice.key]!.at(-1), [5999, 5999], 'the most recent ranges are kept');
});
