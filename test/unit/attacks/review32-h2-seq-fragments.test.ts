// Review 32, h2 (insider): an author's numbers held are kept as sorted disjoint ranges
// (`seq-ranges.ts SeqRanges`), and every `addRange` copies the whole list; `SeqRanges.of`
// (used by `missing`, so by `history.gaps()`, and by `ReceiptReporter.seed` at every start)
// adds the ranges one by one: O(k²) for k ranges. An insider numbers its own messages
// 1, 3, 5, 7, … (any signed body will do; an unknown kind is held for numbering, never shown):
// each message passes every rule of §13 (its own key, its own numbers), and every member then
// holds k disjoint ranges of that author. Measured here: 20,000 such messages → keeping them
// ~3 s of adds, and ONE `gaps()` call ~3 s on the event loop; 40,000 → 25 s of adds and 40 s
// per `gaps()`. The even numbers never come, so the gap is permanent: catch-up calls `gaps()`
// after every session (catch-up.ts `sync`, and `pickPeer` again), i.e. at least every 30 s for
// ever, and the history load at every start replays the adds and `seed`s the reporter.
// Secure: the cost of the sequence-number bookkeeping is (near) linear in what the insider sent
// (docs/protocol.md §12.1 "bounded"): a few thousand fragments cost milliseconds, not seconds.
// Fixed: `addRange` finds its place by binary search and splices; `of` sorts once and merges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SeqRanges } from '../../../app/peer/seq-ranges.js';
import { freshHistory, signer } from './review4-fixtures.js';
import type { SignedMessage } from '../../../app/peer/payload.js';

const N = 12_000;
// Bounds with wide margins, not speed goals: before the fix one gaps() took 755 ms and the adds
// 892 ms at this N (and grow with its square); after it, about 1 ms and 7 ms on the same machine.

test('review32-h2: an insider\'s alternate numbers do not make gaps() quadratic', async (t) => {
  const { profile, history } = freshHistory(signer(1).key, 'conclave-r32h2-');
  t.after(() => profile.close());
  const m = signer(2); // the insider
  // The history trusts its caller (group.ts checked the signature); a real insider signs these.
  const sig = randomBytes(64).toString('hex');
  for (let i = 0; i < N; i++) {
    const s = 2 * i + 1;
    const msg: SignedMessage = { a: m.key, s, k: 1, at: 1000 + s, id: s.toString(16).padStart(32, '0'), b: JSON.stringify({ t: 'zz' }), sig };
    history.keep(msg, `peer-${m.key.slice(0, 8)}`, 'm', 2000 + s);
  }
  await history.durable();
  const t1 = performance.now();
  const gaps = history.gaps();
  const gapsMs = performance.now() - t1;
  assert.equal(gaps.length, 1, 'the insider\'s even numbers are a (permanent) gap');
  assert.ok(gapsMs < 300, `one gaps() call took ${gapsMs.toFixed(0)} ms over ${N} fragments of one author`);
});

test('review32-h2: SeqRanges.of and add stay near linear in the number of fragments', () => {
  const r = new SeqRanges();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) r.add(2 * i + 1);
  const addMs = performance.now() - t0;
  const t1 = performance.now();
  SeqRanges.of(r.list());
  r.missing(2 * N, new SeqRanges(), 64);
  const ofMs = performance.now() - t1;
  assert.ok(addMs < 300, `${N} appends of a fresh fragment took ${addMs.toFixed(0)} ms`);
  assert.ok(ofMs < 300, `copying ${N} fragments (SeqRanges.of, missing) took ${ofMs.toFixed(0)} ms`);
});
