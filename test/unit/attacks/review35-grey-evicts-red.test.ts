// Review 35 (key panel, "ignored, not refused"): docs/ui.md says ignored lines never crowd out
// refused ones — "the peer evicts an ignored count first when it holds 32" — and key-panel.ts says
// "late and repeated inputs never push out a forgery's line". But RejectionLog.note judges what to
// evict with `expectedRefusal(r, () => false)`: a `not-member` count is never evictable first there,
// though `list` marks it `before-admission` (grey "ignored") once its sender is a current member.
// So 32 newcomers each heard once before their admission reached this member (an honest group's
// joins over a day, or an insider's invited sybils) push a forgery's red line out of the peer's 32
// aggregates, and the panel then shows 32 grey lines and no red one.
// Secure: an aggregate the panel shows as ignored is evicted before one it shows as refused.
//
// The roster predicate is handed to the constructor, to `note` and to `list` alike (the current
// RejectionLog takes it only in `list`; a fix may take it in either of the other two).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MAX_REJECTION_KINDS, RejectionLog } from '../../../app/peer/key-panel.js';
import type { EngineEvent, MemberKey } from '../../../app/core/types.js';
import { keyLogLines, type KeyNames } from '../../../renderer/src/key-log.js';

type Rejected = Extract<EngineEvent, { type: 'rejected' }>;
const hexKey = () => Buffer.from(randomBytes(32)).toString('hex');

test('review35: grey before-admission counts push a forgery\'s red line out of the 32 aggregates', () => {
  const newcomers = Array.from({ length: MAX_REJECTION_KINDS }, hexKey);
  const members = new Set<MemberKey>(newcomers);
  // Each newcomer admitted just before its heartbeat reached this member.
  const log = new RejectionLog((k) => (members.has(k) ? { state: 'member', admittedAt: 1_500 } : null));
  const note = (ev: Rejected) => log.note(ev);

  const mallory = hexKey(); // a stranger: never in the roster
  note({ type: 'rejected', from: mallory, reason: 'bad-signature', detail: 'forged table header', at: 1_000 });
  // Each newcomer's first heartbeat came before its admission did (test/unit/honest-refusals.test.ts).
  newcomers.forEach((k, i) => note({ type: 'rejected', from: k, reason: 'not-member', detail: 'heartbeat from a peer that is not a member', at: 2_000 + i }));

  const list = log.list();
  const grey = list.filter((r) => r.expected !== undefined).length;
  const red = list.filter((r) => r.expected === undefined);
  const names: KeyNames = { peerIdOf: (k) => k, nameOf: (k) => (k === mallory ? 'mallory' : String(k).slice(0, 6)), humanize: (t) => t, hueOfKey: () => 0 };
  const lines = keyLogLines({ log: [], rejections: list }, names).filter((l) => 'count' in l && !l.expected);
  assert.ok(
    red.some((r) => r.from === mallory),
    `the forgery's line was evicted for a grey one: the peer keeps ${grey} ignored and ${red.length} refused aggregates, the panel shows ${lines.length} red lines`,
  );
});
