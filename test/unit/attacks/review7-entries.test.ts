// Red-team review 7 of a table's ENTRIES (docs/protocol.md §8.5, §12 T1). Only a table's
// header is signed (by its excluder); the entries are added by its excluder, its completers
// and whoever answers a fetch. A current member `m` takes a genuine table of another member
// and adds entries of its own: (1) more and more of them, to grow the table in every
// member's memory; (2) junk at the coordinates (slot, KEK version, revision) of a genuine
// entry, sent first, to keep the genuine one out. Each test asserts the SECURE outcome.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupEngine } from '../../../app/core/engine.js';
import { fromHex } from '../../../app/core/bytes.js';
import { participantId, slotsOf } from '../../../app/core/params.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { MsgType, decodeMessage, type TableEntry, type TableHeader } from '../../../app/core/wire.js';
import type { MemberKey } from '../../../app/core/types.js';
import { Attacker, PARAMS, assertRejectedUnchanged, currentTek, drain, groupBytes, honestGroup, identity, tekOf, unicastsTo, type Group, type Id } from './forge.js';

type TableMsg = { type: typeof MsgType.Table; header: TableHeader; headerSignature: Uint8Array; entries: TableEntry[]; pairwise: { member: MemberKey; sealed: Uint8Array }[] };

function slots(key: MemberKey): number[] {
  return slotsOf(participantId(nodeCrypto, fromHex(key), PARAMS.W, PARAMS.V), PARAMS.V);
}

/** The engine's transient tables (not visible through the public API). */
function tablesOf(e: GroupEngine): Map<string, { entries: TableEntry[]; header: TableHeader }> {
  return (e as unknown as { core: { tables: Map<string, { entries: TableEntry[]; header: TableHeader }> } }).core.tables;
}

/**
 * Identities for a, m, x, b, v such that every slot through which v can read a's table
 * (v's slots that a holds, minus x's) is also one of m's: m's junk can cover all of them.
 */
function pickIds(): Record<string, Id> {
  const a = identity('r7-a');
  const x = identity('r7-x');
  const b = identity('r7-b');
  const usable = (s: number) => !slots(x.key).includes(s);
  for (let i = 0; i < 400; i++) {
    const m = identity(`r7-m${i}`);
    for (let j = 0; j < 40; j++) {
      const v = identity(`r7-v${i}-${j}`);
      const via = slots(v.key).filter((s) => slots(a.key).includes(s) && usable(s));
      if (via.length > 0 && via.every((s) => slots(m.key).includes(s))) return { a, m, x, b, v };
    }
  }
  throw new Error('no identities found');
}

/** `a` excludes `x` while the victim `v` is away; returns a's table publication (sealed under the old TEK) and its inner message. */
function exclusionWhileAway(): { g: Group; victim: GroupEngine; genuine: Uint8Array; msg: TableMsg; oldTek: ReturnType<typeof currentTek> } {
  const g = honestGroup(['a', 'm', 'x', 'b', 'v'], { ids: pickIds() });
  const victim = g.e.v!;
  const oldTek = currentTek(victim);
  g.net.offline.add(g.ids.v!.key);
  g.e.a!.exclude([g.ids.x!.key], g.net.now);
  g.net.settle();
  const genuine = g.net.published(g.ids.a!.key, MsgType.Table)[0]!;
  const msg = g.net.open(genuine) as TableMsg;
  assert.equal(msg.type, MsgType.Table);
  for (const k of Object.keys(g.e)) if (k !== 'v') g.net.offline.add(g.ids[k]!.key);
  return { g, victim, genuine, msg, oldTek };
}

// Gap 2 of review 6 (§12 "Known gaps", read from the code): entries were kept once per
// (slot, KEK version, revision), first come. m's junk at the coordinates of a's genuine
// entries, delivered first, kept them out: the victim could not read TEK' and had to fetch
// (a fetch round later, from a member that may be gone). Secure: the victim keeps a few
// candidates per coordinate and opens each; junk is told from the genuine entry by the
// AEAD under the KEK it holds, and the TEK' is read from the table at once.
test('member: junk entries sent first at the coordinates of genuine ones do not keep the genuine entries out', () => {
  const { g, victim, genuine, msg, oldTek } = exclusionWhileAway();
  const M = new Attacker(g.ids.m!);
  M.sealUnder(oldTek);
  const mine = new Set(slots(g.ids.m!.key));
  const junk = msg.entries.filter((e) => mine.has(e.slot)).map((e) => ({ ...e, sealed: M.bytes(e.sealed.length) }));
  assert.ok(junk.length > 0, 'm shares a slot with a and v');
  const base = tekOf(victim);
  victim.receive(g.ids.m!.key, 'control', M.control({ ...msg, entries: junk, pairwise: [] }, msg.header.base), g.net.now);
  victim.receive(g.ids.a!.key, 'control', genuine, g.net.now + 1);
  const tek = tekOf(victim);
  assert.equal(tek.version, base.version + 1, 'TEK\' read from the genuine entries');
  assert.deepEqual(tek.creators, [g.ids.a!.key]);
  assert.equal(drain(victim).out.filter((o) => o.kind === 'unicast' && o.bytes[2] === MsgType.FetchRequest).length, 0, 'no fetch needed');
});

// The same junk sent by a member whose ID does not select those slots: it holds none of
// their KEKs, so no honest member would make such an entry. Refused, unchanged.
test('member: entries at slots the sender\'s ID does not select are refused, state unchanged', () => {
  const { g, victim, msg, oldTek } = exclusionWhileAway();
  const B = new Attacker(g.ids.b!);
  B.sealUnder(oldTek);
  const own = new Set(slots(g.ids.b!.key));
  const foreign = msg.entries.filter((e) => !own.has(e.slot)).map((e) => ({ ...e, sealed: B.bytes(e.sealed.length) }));
  assert.ok(foreign.length > 0);
  assertRejectedUnchanged(victim, g.ids.b!.key, () => victim.receive(g.ids.b!.key, 'control', B.control({ ...msg, entries: foreign, pairwise: [] }, msg.header.base), g.net.now), 'foreign-slot entries');
  assert.equal(tablesOf(victim).size, 0, 'not even the header was taken from it');
});

// Gap 1 of review 6: entries per message were capped (8,192), a table's total was not. m
// sends the current TEK's table again and again, each time with fresh junk entries at its
// own slots (new revisions), and every member kept them all. Secure: a member adds at most
// one entry per slot its ID selects to one table (an honest one adds exactly one, once);
// past it the message is refused and nothing changes.
test('member: a member cannot grow the current TEK\'s table without bound', () => {
  const { g, victim, genuine, msg } = exclusionWhileAway();
  victim.receive(g.ids.a!.key, 'control', genuine, g.net.now);
  assert.deepEqual(tekOf(victim).creators, [g.ids.a!.key], 'installed');
  const table = [...tablesOf(victim).values()].find((t) => t.header.excluder === g.ids.a!.key)!;
  const M = new Attacker(g.ids.m!);
  M.sealUnder(currentTek(victim));
  const own = slots(g.ids.m!.key).filter((s) => !slots(g.ids.x!.key).includes(s));
  const batch = (round: number): TableEntry[] => own.map((slot) => ({ slot, kekVersion: 1, kekRevision: 1000 + round, sealed: M.bytes(48) }));
  victim.receive(g.ids.m!.key, 'control', M.control({ ...msg, entries: batch(0), pairwise: [] }, msg.header.base), g.net.now + 1);
  const after1 = table.entries.length;
  for (let round = 1; round <= 20; round++) {
    assertRejectedUnchanged(victim, g.ids.m!.key, () => victim.receive(g.ids.m!.key, 'control', M.control({ ...msg, entries: batch(round), pairwise: [] }, msg.header.base), g.net.now + 1 + round), `junk round ${round}`);
  }
  assert.equal(table.entries.length, after1, `the table keeps ${after1} entries, not ${after1 + 20 * own.length}`);
  // Pairwise entries: only the excluder makes them; m adding some for made-up members is refused too.
  const fake = Array.from({ length: 50 }, (_, i) => ({ member: identity(`fake${i}`).key, sealed: M.bytes(48) }));
  assertRejectedUnchanged(victim, g.ids.m!.key, () => victim.receive(g.ids.m!.key, 'control', M.control({ ...msg, entries: [], pairwise: fake }, msg.header.base), g.net.now + 30), 'pairwise junk');
});

/** Ticks the victim alone until it sends a FetchRequest to `to`; returns the time. */
function untilFetchTo(victim: GroupEngine, to: MemberKey, from: number): number {
  for (let now = from + 10; now < from + 60_000; now += 10) {
    victim.tick(now);
    if (drain(victim).out.some((o) => o.kind === 'unicast' && o.to === to && o.bytes[2] === MsgType.FetchRequest)) return now;
  }
  throw new Error('no fetch request');
}

// The same through fetch replies: their tables carry anyone's entries (a responder passes
// on all it holds), so the one-per-slot rule cannot apply. m first gets asked (it sends the
// header alone, so it is the first publisher the victim asks), then answers with junk:
// more than the relayed cap (refused, unchanged), then many candidates at the victim's own
// coordinates. The victim proves them junk by opening them; the genuine entries that come
// afterwards still take their place, and TEK' is read from them.
test('member: junk in fetch replies is bounded and does not keep the genuine entries out', () => {
  const { g, victim, genuine, msg, oldTek } = exclusionWhileAway();
  const M = new Attacker(g.ids.m!);
  M.sealUnder(oldTek);
  const base = tekOf(victim);
  victim.receive(g.ids.m!.key, 'control', M.control({ ...msg, entries: [], pairwise: [] }, msg.header.base), g.net.now);
  const table = [...tablesOf(victim).values()][0]!;
  assert.equal(table.entries.length, 0);
  const reply = (entries: TableEntry[]) => M.fetchReply(null, M.encode({ ...msg, entries, pairwise: [] }));
  const usable = slots(g.ids.v!.key).filter((s) => !slots(g.ids.x!.key).includes(s));
  let now = untilFetchTo(victim, g.ids.m!.key, g.net.now);
  const flood = Array.from({ length: 41 }, (_, i) => ({ slot: usable[0]!, kekVersion: 1, kekRevision: i, sealed: M.bytes(48) }));
  assertRejectedUnchanged(victim, g.ids.m!.key, () => victim.receive(g.ids.m!.key, 'unicast', reply(flood), now), 'a reply over the relayed cap');
  assert.equal(table.entries.length, 0, 'none of it kept');
  now = untilFetchTo(victim, g.ids.m!.key, now);
  const mine = msg.entries.filter((e) => usable.includes(e.slot));
  assert.ok(mine.length > 0);
  const junk = mine.flatMap((e) => Array.from({ length: 6 }, () => ({ ...e, sealed: M.bytes(e.sealed.length) })));
  victim.receive(g.ids.m!.key, 'unicast', reply(junk), now);
  assert.equal(table.entries.length, 4 * mine.length, 'four candidates per coordinates');
  assert.equal(tekOf(victim).version, base.version, 'no TEK\' from junk');
  victim.receive(g.ids.a!.key, 'control', genuine, now + 1);
  assert.equal(tekOf(victim).version, base.version + 1, 'TEK\' read from the genuine entries');
  assert.deepEqual(tekOf(victim).creators, [g.ids.a!.key]);
});

// Completion (003 [0079]): a member that fetched TEK' adds entries under its slots that no
// entry covers yet. Before review 7 any entry under a slot covered it, so m's junk under a
// slot it shares with the victim kept the victim from adding the genuine entry there; the
// members reading through that slot had to fetch too. Now a slot counts as covered only by
// an entry that opens, under the victim's KEK, to TEK'. (a's honest answer would carry
// its table's genuine entries; here they were lost on the way.)
test('member: junk under a shared slot does not suppress the genuine entry a completer adds there', () => {
  const { g, victim, msg, oldTek } = exclusionWhileAway();
  const M = new Attacker(g.ids.m!);
  M.sealUnder(oldTek);
  const mine = new Set(slots(g.ids.m!.key));
  const junk = msg.entries.filter((e) => mine.has(e.slot)).map((e) => ({ ...e, sealed: M.bytes(e.sealed.length) }));
  const shared = junk.map((e) => e.slot).filter((s) => slots(g.ids.v!.key).includes(s));
  assert.ok(shared.length > 0);
  victim.receive(g.ids.m!.key, 'control', M.control({ ...msg, entries: junk, pairwise: [] }, msg.header.base), g.net.now);
  // The victim asks m first (it published), which stays silent, then a, which answers.
  let now = untilFetchTo(victim, g.ids.m!.key, g.net.now);
  now = untilFetchTo(victim, g.ids.a!.key, now);
  // a's answer: TEK' sealed for the victim, with the table's header (its entries were lost on the way, say).
  const tekPrime = currentTek(g.e.a!)!;
  assert.equal(tekPrime.revision, 0);
  const A = new Attacker(g.ids.a!);
  const info = { slot: 0, version: tekPrime.version, revision: 0, creators: [g.ids.a!.key] };
  victim.receive(g.ids.a!.key, 'unicast', A.fetchReply(A.sealFor(g.ids.v!.key, 'fetch', info, tekPrime.key), A.encode({ ...msg, entries: [], pairwise: [] })), now);
  assert.deepEqual(tekOf(victim).creators, [g.ids.a!.key], 'TEK\' fetched');
  const completed: TableEntry[] = [];
  for (let t = now + 10; t <= now + 2 * g.params.heartbeatMs; t += 10) {
    victim.tick(t);
    for (const o of drain(victim).out) {
      if (o.kind !== 'publish' || o.topic !== 'control') continue;
      const inner = g.net.open(o.bytes);
      if (inner?.type === MsgType.Table && inner.header.excluder === g.ids.a!.key) completed.push(...inner.entries);
    }
  }
  for (const s of shared) assert.ok(completed.some((e) => e.slot === s), `the victim completes slot ${s} although m's junk is there`);
});

// Issue 17 item 3: a fetch reply's table carries only what its requester can use, the
// entries under slots its ID selects and its own pairwise entry (§7.4, §8.5 rule 2); TEK'
// comes sealed pairwise anyway. Before, a reply carried every entry the responder held
// (6 KB of 6.1 KB per reply at N = 128) and the requester kept anyone's entries from it.
// Now an entry under another slot, or another member's pairwise entry, is refused and the
// table is left as it was: m cannot fill the victim's memory with entries it never reads.
test('member: a fetch reply with entries under slots the requester does not hold, or another member\'s pairwise entry, is refused', () => {
  const { g, victim, msg, oldTek } = exclusionWhileAway();
  const M = new Attacker(g.ids.m!);
  M.sealUnder(oldTek);
  victim.receive(g.ids.m!.key, 'control', M.control({ ...msg, entries: [], pairwise: [] }, msg.header.base), g.net.now);
  const table = [...tablesOf(victim).values()][0]!;
  const reply = (m: TableMsg) => M.fetchReply(null, M.encode(m));
  const foreign = msg.entries.filter((e) => !slots(g.ids.v!.key).includes(e.slot));
  assert.ok(foreign.length > 0, 'a\'s table has entries under slots the victim does not hold');
  let now = untilFetchTo(victim, g.ids.m!.key, g.net.now);
  assertRejectedUnchanged(victim, g.ids.m!.key, () => victim.receive(g.ids.m!.key, 'unicast', reply({ ...msg, entries: foreign, pairwise: [] }), now), 'entries for someone else');
  assert.equal(table.entries.length, 0, 'none of them kept');
  now = untilFetchTo(victim, g.ids.m!.key, now);
  const theirs = { member: g.ids.b!.key, sealed: M.bytes(48) };
  assertRejectedUnchanged(victim, g.ids.m!.key, () => victim.receive(g.ids.m!.key, 'unicast', reply({ ...msg, entries: [], pairwise: [theirs] }), now), 'another member\'s pairwise entry');
  assert.equal((table as unknown as { pairwise: unknown[] }).pairwise.length, 0, 'not kept');
});

// The honest side: a responder sends the requester the signed header, the entries under
// the requester's slots and TEK' sealed pairwise, and the requester installs it.
test('honest: a fetch reply carries the requester\'s entries only, and the requester takes TEK\' from it', () => {
  const g = honestGroup(['a', 'm', 'x', 'b', 'v'], { ids: pickIds() });
  const victim = g.e.v!;
  g.net.offline.add(g.ids.v!.key);
  g.e.a!.exclude([g.ids.x!.key], g.net.now);
  g.net.settle();
  const full = g.net.open(g.net.published(g.ids.a!.key, MsgType.Table)[0]!) as TableMsg;
  const b = g.e.b!;
  drain(b);
  const V = new Attacker(g.ids.v!);
  b.receive(g.ids.v!.key, 'unicast', V.fetchRequest(0, full.header.newVersion, [g.ids.a!.key]), g.net.now);
  const out = unicastsTo(drain(b).out, g.ids.v!.key, MsgType.FetchReply);
  assert.equal(out.length, 1);
  const rep = decodeMessage(groupBytes, 'unicast', out[0]!) as { type: typeof MsgType.FetchReply; table: Uint8Array | null };
  const inner = decodeMessage(groupBytes, 'unicast', rep.table!) as TableMsg;
  const mine = slots(g.ids.v!.key);
  assert.ok(inner.entries.length > 0 && inner.entries.every((e) => mine.includes(e.slot)), 'only entries under the requester\'s slots');
  assert.ok(inner.entries.length < full.entries.length, 'fewer than the table holds');
  assert.ok(inner.pairwise.every((x) => x.member === g.ids.v!.key));
  const base = tekOf(victim).version;
  g.net.offline.delete(g.ids.v!.key);
  g.net.run(g.net.now + 30_000);
  assert.equal(tekOf(victim).version, base + 1, 'the victim fetched TEK\' with the trimmed table');
});
