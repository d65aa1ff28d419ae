// Review 23 (013edd1, exclusion.ts applyBlocklist `provenLeaver` / `leaversBeside`): under
// `admins`, a non-admin's table's blocklist entries beyond its targets are taken when the header
// carries a verifying Leave for them. The check runs once per blocklist ENTRY, and for each one
// verifies every carried Leave naming that member until one passes: nothing dedupes the
// blocklist, caches a verdict, or caps the work. A non-admin insider n signs one table that
// "excludes" an old leaver L (state 'left' everywhere: T1 lets a non-admin name it, no Leave
// needed), lists a current member c thousands of times in its blocklist, and carries 255 junk
// Leaves "of c": each receiver runs blocklist × 255 Ed25519 verifications. An old table (base far
// below the receiver's TEK) is not kept (it is "stale" after applyBlocklist), so the same bytes
// cost it all again on every replay, and a relayed/gossiped copy costs every member the same.
// Measured: 100 duplicates → 25,501 verifies per receipt (before 013edd1: 1). A unicast Table
// may carry 20,000 blocklist keys (LIMITS.blocklist, 640 kB < 4 MB) → 5.1 M verifies ≈ 80 s
// (node) to 13 min (150 µs/verify) of CPU per message.
// Secure: the Leave checks of one table cost at most one verify per carried Leave (≤ 255), e.g.
// distinct blocklist (sorted, no duplicates) and each Leave verified once, its member once.
// Fixed: each carried Leave is looked at once, its member once, at most 32 beside the targets
// (exclusion.ts provenLeaversBeside, authorization.ts carriesLeaveOf).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PARAMS, commitTek, drain, groupBytes, honestGroup, identity, tekOf } from './forge.js';
import { concat, utf8 } from '../../../app/core/bytes.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { MsgType, encodeMessage, encodeTableHeader, type TableHeader } from '../../../app/core/wire.js';

const LABEL = (s: string) => utf8(`conclave/v1/${s}`);

test('one non-admin table with a duplicated blocklist and 255 junk Leaves costs a receiver blocklist × 255 signature checks, on every replay', () => {
  const a = identity('a');
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: [a.key] } };
  const g = honestGroup(['a', 'b', 'c', 'n', 'L', 'd1', 'd2'], { params });
  for (const d of ['d1', 'd2']) {
    g.e.a!.exclude([g.ids[d]!.key], g.net.now);
    g.net.run(g.net.now + 4 * g.params.heartbeatMs);
  }
  g.e.L!.leave(g.net.now);
  g.net.run(g.net.now + 10 * g.params.heartbeatMs);
  const victim = g.e.b!;
  assert.equal(victim.rosterState(g.ids.L!.key), 'left');
  assert.ok(tekOf(victim).version >= 3, 'the victim is past v2: a v1 table is old');

  const n = g.ids.n!;
  const c = g.ids.c!.key;
  const DUPLICATES = 40;
  const base = { version: 0, creators: [a.key] };
  const header: TableHeader = {
    kind: 'exclude',
    excluder: n.key,
    targets: [g.ids.L!.key],
    base,
    newVersion: 1,
    createdAt: g.net.now,
    blocklist: [g.ids.L!.key, ...Array<string>(DUPLICATES).fill(c)],
    tekCommitment: commitTek(n.key, 1, g.net.now, new Uint8Array(32).fill(7)),
    panel: null,
    replaced: [],
    plan: [],
    leaves: Array.from({ length: 255 }, (_, i) => ({ member: c, sentAt: i + 1, signature: new Uint8Array(64).fill(i) })),
  };
  const headerSignature = nodeCrypto.ed25519Sign(n.seed, concat(LABEL('table'), groupBytes, encodeTableHeader(header)));
  const bytes = encodeMessage(groupBytes, { type: MsgType.Table, header, headerSignature, entries: [], pairwise: [] });

  let verifies = 0;
  const original = nodeCrypto.ed25519Verify;
  (nodeCrypto as { ed25519Verify: typeof original }).ed25519Verify = (pk, msg, sig) => {
    verifies++;
    return original.call(nodeCrypto, pk, msg, sig);
  };
  const perReceipt: number[] = [];
  try {
    drain(victim);
    for (let i = 0; i < 3; i++) {
      verifies = 0;
      victim.receive(n.key, 'unicast', bytes, g.net.now);
      perReceipt.push(verifies);
    }
  } finally {
    (nodeCrypto as { ed25519Verify: typeof original }).ed25519Verify = original;
  }
  assert.equal(victim.rosterState(c), 'member', 'junk Leaves exclude nobody');
  // Now: [10201, 10201, 10201] (40 × 255 + the header signature). Bounded: ≤ 1 + 255 for the
  // first receipt, and a replay of the same bytes should not cost the whole again.
  assert.ok(perReceipt[0]! <= 256, `first receipt: ${perReceipt[0]} Ed25519 verifies for one ${bytes.length}-byte table`);
  assert.ok(perReceipt.reduce((x, y) => x + y, 0) <= 3 * 256, `three receipts of the same bytes: ${perReceipt.join(', ')} verifies`);
});

// Review 23, item 2: an admin's table recorded a target as a leaver on a Leave it carried
// without checking it, so a block that §8.2 would drop (a losing admin's exclusion) stood for
// good. Secure: a carried Leave makes a leaver only when it verifies.
test("an admin's table with a junk Leave for its target records an exclusion, not a leave", () => {
  const a = identity('a');
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins: [a.key] } };
  const g = honestGroup(['a', 'b', 'c', 'd1'], { params });
  g.e.a!.exclude([g.ids.d1!.key], g.net.now);
  g.net.run(g.net.now + 4 * g.params.heartbeatMs);
  const victim = g.e.b!;
  const c = g.ids.c!.key;
  const header: TableHeader = {
    kind: 'exclude',
    excluder: a.key,
    targets: [c],
    base: { version: 0, creators: [a.key] },
    newVersion: 1,
    createdAt: g.net.now,
    blocklist: [c],
    tekCommitment: commitTek(a.key, 1, g.net.now, new Uint8Array(32).fill(7)),
    panel: null,
    replaced: [],
    plan: [],
    leaves: [{ member: c, sentAt: g.net.now, signature: new Uint8Array(64).fill(3) }],
  };
  const headerSignature = nodeCrypto.ed25519Sign(a.seed, concat(LABEL('table'), groupBytes, encodeTableHeader(header)));
  drain(victim);
  victim.receive(a.key, 'unicast', encodeMessage(groupBytes, { type: MsgType.Table, header, headerSignature, entries: [], pairwise: [] }), g.net.now);
  assert.ok(victim.isBlocked(c), 'the admin excluded c');
  // Before: 'left' (the junk Leave taken unchecked).
  assert.equal(victim.rosterState(c), 'excluded');
});
