// Hostile tests, issue 14 "Why" §5 and §9: bounds everywhere. A single message may cost
// a bounded amount of work and never throw out of receive(); a flood from one sender
// may not push out genuine state. Work is counted (SHA-256 calls through a metered
// crypto provider that stops a bomb early), never timed. Each test asserts the SECURE
// outcome; a `todo` marks an attack that still succeeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupEngine } from '../../../app/core/engine.js';
import { MsgType, encodeMessage, type TableEntry } from '../../../app/core/wire.js';
import { creatorsTag } from '../../../app/core/keys.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import {
  Attacker,
  assertRejectedUnchanged,
  deps,
  drain,
  groupBytes,
  honestGroup,
  identity,
  meteredCrypto,
  tekOf,
  type Group,
  type Id,
} from './forge.js';

/** The group's member `name` restored from its snapshot onto a crypto provider that counts SHA-256 calls. */
function metered(g: Group, name: string): { victim: GroupEngine; budget: { left: number } } {
  const budget = { left: Infinity };
  const id: Id = g.ids[name]!;
  const victim = GroupEngine.restore(deps(`${name}-metered`, { crypto: meteredCrypto(budget) }), id, g.e[name]!.snapshot(), g.net.now);
  drain(victim);
  return { victim, budget };
}

/** Runs `act` and fails (instead of hanging or throwing) if it needs more than `hashes` SHA-256 calls. */
function withBudget(budget: { left: number }, hashes: number, act: () => void): void {
  budget.left = hashes;
  try {
    act();
  } finally {
    budget.left = Infinity;
  }
}

const MAX_REVISION = 2 ** 32 - 1;

// Attack (revision bomb): a member's heartbeat claiming TEK revision 2^32-1 makes every
// member step its TEK ~4·10^9 times (hours of frozen event loop). Secure: the claim is
// rejected without that work, the revision is unchanged.
test('member: a heartbeat claiming TEK revision 2^32-1 is rejected without hashing billions of times', () => {
  const g = honestGroup(['a', 'b', 'm']);
  const m = new Attacker(g.ids.m!);
  const { victim, budget } = metered(g, 'b');
  const cur = tekOf(victim);
  const hb = m.heartbeat({ sentAt: g.net.now + 1, keys: [{ ...cur, revision: MAX_REVISION }] });
  withBudget(budget, 100_000, () => assertRejectedUnchanged(victim, m.key, () => victim.receive(m.key, 'control', hb, g.net.now), 'revision bomb heartbeat'));
  assert.equal(tekOf(victim).revision, cur.revision);
});

// Attack (revision bomb): the same through a Revision message, and through the revision
// carried by a MemberAdmitted. Secure: rejected without the work, revision unchanged.
test('member: a Revision or MemberAdmitted claiming TEK revision 2^32-1 is rejected without hashing billions of times', () => {
  const g = honestGroup(['a', 'b', 'm']);
  const m = new Attacker(g.ids.m!);
  const { victim, budget } = metered(g, 'b');
  const cur = tekOf(victim);
  const bomb = { ...cur, revision: MAX_REVISION };
  withBudget(budget, 100_000, () => assertRejectedUnchanged(victim, m.key, () => victim.receive(m.key, 'control', m.revision([bomb]), g.net.now), 'revision bomb Revision'));
  withBudget(budget, 100_000, () =>
    assertRejectedUnchanged(victim, m.key, () => victim.receive(m.key, 'control', m.memberAdmitted([], [bomb]), g.net.now), 'revision bomb MemberAdmitted'),
  );
  assert.equal(tekOf(victim).revision, cur.revision);
});

// Attack (hash work per table): a member's table carries thousands of entries under the
// victim's own KEK slots with spread-out revisions; the victim steps its KEK up to 10,000
// times per entry before finding that none opens (tens of millions of hashes).
// Secure: one table message costs a bounded number of hashes (here: under 200,000).
test('member: a table with spread-out KEK revisions costs a bounded number of hashes', () => {
  const g = honestGroup(['a', 'b', 'c', 'm']);
  const m = new Attacker(g.ids.m!);
  const { victim, budget } = metered(g, 'b');
  const V = g.params.V;
  const target = g.ids.c!.key;
  const targetSlots = new Set(victim.participantIdOf(target).map((v, s) => 1 + s * V + v));
  const held = victim.keyTable(g.net.now).slots.filter((s) => s.held && s.slot.kind === 'kek');
  const usable = held.map((k) => ({ k, slot: k.slot.kind === 'kek' ? 1 + k.slot.symbol * V + k.slot.value : 0 })).filter((x) => !targetSlots.has(x.slot));
  assert.ok(usable.length > 0, 'the victim has a KEK the target does not share');
  const entries: TableEntry[] = [];
  for (let i = 0; entries.length < 8000; i++) {
    const u = usable[i % usable.length]!;
    entries.push({ slot: u.slot, kekVersion: u.k.version, kekRevision: u.k.revision + 10_000 - Math.floor(i / usable.length), sealed: m.bytes(48) });
  }
  const t = m.table({ targets: [target], base: tekOf(victim), blocklist: [target], recipients: [], createdAt: g.net.now, entries });
  let threw: unknown = null;
  withBudget(budget, 200_000, () => {
    try {
      victim.receive(m.key, 'control', t.bytes, g.net.now);
    } catch (err) {
      threw = err;
    }
  });
  assert.equal(threw, null, `receive() of one table needed more than 200,000 hashes (${String(threw)})`);
});

// Attack (recursion): a FetchReply nested in a FetchReply ~2,000 deep (about 50 KB)
// recurses through receive() without a depth limit and throws a RangeError out of it.
// Secure: receive() never throws; the message is rejected.
test('outsider: a FetchReply nested 2,000 deep does not throw out of receive()', () => {
  const g = honestGroup(['a', 'b']);
  const mallory = new Attacker(identity('mallory'));
  let bytes = mallory.fetchReply(null, null);
  for (let i = 0; i < 2000; i++) bytes = encodeMessage(groupBytes, { type: MsgType.FetchReply, table: bytes, key: null });
  assert.ok(bytes.length < 64 * 1024, 'about 50 KB');
  const victim = g.e.b!;
  assertRejectedUnchanged(victim, mallory.key, () => victim.receive(mallory.key, 'unicast', bytes, g.net.now), 'nested FetchReply');
});

// Attack (buffer eviction): data from a non-member under unknown TEK versions is buffered
// like genuine data awaiting its key; 600 such packets push a member's genuine packet
// (sent under the TEK' of an exclusion whose table is still on its way) out of the
// 512-packet buffer. Secure: once the table arrives, the genuine packet is read.
test('outsider: a flood of unknown-version data does not evict a genuine buffered packet', () => {
  const g = honestGroup(['a', 'b', 'c', 'x']);
  const mallory = new Attacker(identity('mallory'));
  const a = g.e.a!;
  const b = g.e.b!;
  g.net.engines.delete(g.ids.x!.key);
  a.exclude([g.ids.x!.key], g.net.now);
  const table = drain(a).out;
  const payload = new TextEncoder().encode('genuine after the exclusion');
  a.send(payload, g.net.now);
  const data = drain(a).out.find((t) => t.kind === 'publish' && t.topic === 'data')!;
  assert.ok(data && data.kind === 'publish');
  b.receive(g.ids.a!.key, 'data', data.bytes, g.net.now); // arrives before the table: buffered
  for (let i = 0; i < 600; i++) b.receive(mallory.key, 'data', mallory.data({ params: g.params, tekVersion: 1000 + i, sentAt: g.net.now }), g.net.now);
  drain(b);
  for (const t of table) {
    if (t.kind !== 'publish') continue;
    for (const n of ['b', 'c']) g.e[n]!.receive(g.ids.a!.key, t.topic, t.bytes, g.net.now);
  }
  g.net.run(g.net.now + 5 * g.params.heartbeatMs);
  const read = g.net.eventsOf(g.ids.b!.key).some((e) => e.type === 'data' && e.from === g.ids.a!.key && new TextDecoder().decode(e.payload) === 'genuine after the exclusion');
  assert.ok(read, 'the genuine packet is read once its key arrives');
});

// Attack (unbounded fetch entries): every unknown (version, tag) in data from a non-member
// opens a fetch entry, and each becomes a FetchRequest, to the sender and then to honest
// members (amplification). Secure: one sender's flood leads to a small, bounded number of
// fetches (here: at most 32 FetchRequests for 1,000 packets).
test('outsider: a flood of unknown-version data opens a bounded number of fetches', () => {
  const g = honestGroup(['a', 'b', 'c']);
  const mallory = new Attacker(identity('mallory'));
  const b = g.e.b!;
  const cur = tekOf(b);
  for (let i = 0; i < 1000; i++) b.receive(mallory.key, 'data', mallory.data({ params: g.params, tekVersion: cur.version + 1 + i, sentAt: g.net.now }), g.net.now);
  drain(b);
  const from = g.net.log.length;
  g.net.run(g.net.now + 3 * g.params.fetchAfterMs);
  const fetches = g.net.log.slice(from).filter((s) => s.from === g.ids.b!.key && s.t.kind === 'unicast' && s.t.bytes[2] === MsgType.FetchRequest);
  assert.ok(fetches.length <= 32, `${fetches.length} FetchRequests for one sender's flood`);
});

// Regression (refused today): a data packet whose header claims another member's
// participant ID is rejected; one whose revision is more than 10,000 steps ahead of the
// held TEK is refused as undecryptable without the work.
test('outsider: data with a forged participant ID, or 2^32-1 revisions ahead, is refused cheaply', () => {
  const g = honestGroup(['a', 'b']);
  const mallory = new Attacker(identity('mallory'));
  const { victim, budget } = metered(g, 'b');
  const cur = tekOf(victim);
  const forged = encodeMessage(groupBytes, {
    type: MsgType.Data,
    senderId: Uint8Array.from(victim.participantIdOf(g.ids.a!.key)),
    tekVersion: cur.version,
    tekTag: mallory.bytes(8),
    revision: 0,
    sentAt: 0,
    nonce: mallory.bytes(24),
    ciphertext: mallory.bytes(32),
  });
  if (victim.participantIdOf(g.ids.a!.key).join() !== victim.participantIdOf(mallory.key).join()) {
    assertRejectedUnchanged(victim, mallory.key, () => victim.receive(mallory.key, 'data', forged, g.net.now), 'forged participant ID');
  }
  const bomb = mallory.data({ params: g.params, tekVersion: cur.version, tekTag: tagOf(cur.creators), revision: MAX_REVISION, sentAt: 0 });
  withBudget(budget, 1_000, () => assertRejectedUnchanged(victim, mallory.key, () => victim.receive(mallory.key, 'data', bomb, g.net.now), 'data revision bomb'));
  assert.equal(tekOf(victim).revision, cur.revision);
});

function tagOf(creators: string[]): Uint8Array {
  return creatorsTag(nodeCrypto, creators);
}
