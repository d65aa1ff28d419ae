// Red-team review 5 of the one-hop reseal (docs/protocol.md §8.2; commits 2a2e282, 5f5aa44):
// who reseals, a reseal taken over an unread winner ("jump"), the race's base as sealing TEK,
// and a table applied once its base is. Each test asserts the SECURE (or live) outcome.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MsgType } from '../../../app/core/wire.js';
import { creatorsTag } from '../../../app/core/keys.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { Attacker, assertRejectedUnchanged, drain, honestGroup, identity, tekOf, type Id } from './forge.js';

/** Six members; roles by key order: `lo` has the lowest key of all (it wins every tie-break), `hi` the next. */
function raceGroup() {
  const names = ['s1', 's2', 's3', 's4', 's5', 's6'];
  const sorted = names.map((n) => identity(n)).sort((x, y) => (x.key < y.key ? -1 : 1));
  const [lo, hi, m, e1, e2, c] = sorted as [Id, Id, Id, Id, Id, Id];
  const ids: Record<string, Id> = { lo, hi, m, e1, e2, c };
  const g = honestGroup(['c', 'lo', 'hi', 'm', 'e1', 'e2'], { ids });
  // Only the victim `m` runs from here on; the tests speak for the others with their keys.
  const victim = g.e.m!;
  const bb = tekOf(victim);
  for (const k of Object.keys(g.e)) if (k !== 'm') g.net.offline.add(g.ids[k]!.key);
  return { g, victim, bb, now: g.net.now, lo, hi, m, e1, e2, c };
}

// A member on a losing sibling L (by `hi`, excluding e2) takes a reseal t over the unread
// winner W (by `lo`, excluding e1), as §8.2 allows. t was made before L reached its maker, so
// it does not exclude e2: the member holds its data and must reseal itself after the back-off
// when the creator is gone ("every other member only after 2–4 heartbeats, in case it is
// gone"). Attack/bug: the jump path schedules no reseal, so the member holds its data for good.
test('jump over an unread winner: a reseal that misses the losing sibling\'s target is resealed here after the back-off', () => {
  const { g, lo, hi, m, e1, e2, victim, bb, now } = raceGroup();
  const A = new Attacker(lo);
  const B = new Attacker(hi);
  const L = B.table({ targets: [e2.key], base: bb, blocklist: [e2.key], recipients: [m.key], createdAt: now });
  const W = A.table({ targets: [e1.key], base: bb, blocklist: [e1.key], recipients: [], createdAt: now });
  const t = A.table({ targets: [e1.key], base: { version: bb.version + 1, creators: [lo.key] }, blocklist: [e1.key], recipients: [m.key], createdAt: now + 40 });
  victim.receive(hi.key, 'unicast', L.unicast, now);
  assert.equal(tekOf(victim).version, bb.version + 1, 'L applied');
  victim.receive(lo.key, 'unicast', W.unicast, now + 1);
  victim.receive(lo.key, 'unicast', t.unicast, now + 2);
  const at = tekOf(victim);
  assert.equal(at.version, bb.version + 2, 'the reseal is taken over the unread winner');
  assert.deepEqual(at.creators, [lo.key]);
  assert.ok(victim.isBlocked(e1.key) && victim.isBlocked(e2.key), 'both exclusions stand');
  drain(victim);
  victim.send(new Uint8Array([1, 2, 3]), now + 3);
  let published = 0;
  let resealed = false;
  for (let now2 = now + 10; now2 <= now + 6 * g.params.heartbeatMs; now2 += 10) {
    victim.tick(now2);
    for (const o of drain(victim).out) {
      if (o.kind === 'publish' && o.topic === 'data') published++;
    }
    if (tekOf(victim).version > bb.version + 2) resealed = true;
  }
  assert.ok(resealed, 'the member reseals (an exclusion of e2 on top of the reseal) after 2–4 heartbeats');
  assert.ok(published > 0, 'its held message goes out under a TEK that excludes e1 and e2');
});

/** Runs `victim` alone for `ms`; returns how many data packets it published and its last TEK version. */
function runAlone(victim: ReturnType<typeof raceGroup>['g']['e'][string], from: number, ms: number): { published: number } {
  let published = 0;
  for (let now = from + 10; now <= from + ms; now += 10) {
    victim.tick(now);
    for (const o of drain(victim).out) if (o.kind === 'publish' && o.topic === 'data') published++;
  }
  return { published };
}

// Excluded member: e1, excluded by W, knows the race's base TEK (every reseal is sealed under
// it, §8.2) and W's header; it signs a "reseal" on top of W naming W's targets' superset and
// carrying TEK' pairwise for the victim. Secure: an excluded identity authors nothing.
test('excluded: a "reseal" signed by a member the winner excluded is rejected and changes nothing', () => {
  const { lo, m, e1, e2, victim, bb, now } = raceGroup();
  const W = new Attacker(lo).table({ targets: [e1.key], base: bb, blocklist: [e1.key], recipients: [m.key], createdAt: now });
  victim.receive(lo.key, 'unicast', W.unicast, now);
  assert.equal(tekOf(victim).version, bb.version + 1);
  const fake = new Attacker(e1).table({ targets: [e2.key], base: { version: bb.version + 1, creators: [lo.key] }, blocklist: [], recipients: [m.key], createdAt: now + 1 });
  assertRejectedUnchanged(victim, e1.key, () => victim.receive(e1.key, 'unicast', fake.unicast, now + 2), 'a reseal from an excluded member');
});

// Insider with a HIGHER key than the table the victim is on: a fake base sibling (header only)
// and a readable "reseal" on it. Secure: the fake base loses the tie-break, so the victim does
// not undo its table to take the reseal (§8.2: only from a sibling that loses to the base).
test('member: a reseal over a fake sibling that loses the tie-break does not undo the victim\'s table', () => {
  const { hi, m, e1, e2, c, victim, bb, now } = raceGroup();
  const X = new Attacker(hi).table({ targets: [e1.key], base: bb, blocklist: [e1.key], recipients: [m.key], createdAt: now });
  victim.receive(hi.key, 'unicast', X.unicast, now);
  const onX = tekOf(victim);
  assert.deepEqual(onX.creators, [hi.key]);
  const C = new Attacker(c);
  const Y = C.table({ targets: [e2.key], base: bb, blocklist: [e2.key], recipients: [], createdAt: now });
  const t = C.table({ targets: [e2.key], base: { version: bb.version + 1, creators: [c.key] }, blocklist: [e2.key], recipients: [m.key], createdAt: now + 1 });
  victim.receive(c.key, 'unicast', Y.unicast, now + 1);
  victim.receive(c.key, 'unicast', t.unicast, now + 2);
  assert.deepEqual(tekOf(victim), onX, 'still on the winning table');
  assert.ok(victim.isBlocked(e1.key));
});

// Insider with the LOWEST key (it wins every tie-break by the rule, §8.2): a fake base sibling
// excluding e2 (header only) and a readable "reseal" on it that ignores e1. The victim takes
// it (the rule allows it), but undoing its table un-blocks nobody: e1 stays blocked, nothing
// is sent under the insider's TEK (it does not exclude e1), and the victim reseals.
test('member: undoing a losing sibling for a reseal keeps every exclusion; data waits for a TEK that excludes them all', () => {
  const { g, lo, hi, m, e1, e2, victim, bb, now } = raceGroup();
  const X = new Attacker(hi).table({ targets: [e1.key], base: bb, blocklist: [e1.key], recipients: [m.key], createdAt: now });
  victim.receive(hi.key, 'unicast', X.unicast, now);
  const L = new Attacker(lo);
  const Y = L.table({ targets: [e2.key], base: bb, blocklist: [e2.key], recipients: [], createdAt: now });
  const t = L.table({ targets: [e2.key], base: { version: bb.version + 1, creators: [lo.key] }, blocklist: [e2.key], recipients: [m.key], createdAt: now + 1 });
  victim.receive(lo.key, 'unicast', Y.unicast, now + 1);
  victim.receive(lo.key, 'unicast', t.unicast, now + 2);
  assert.equal(tekOf(victim).version, bb.version + 2);
  assert.ok(victim.isBlocked(e1.key) && victim.isBlocked(e2.key), 'no exclusion is dropped by the undo');
  assert.equal(victim.members().find((x) => x.key === e1.key)?.state, 'excluded');
  drain(victim);
  victim.send(new Uint8Array([7]), now + 3);
  assert.equal(drain(victim).out.filter((o) => o.kind === 'publish' && o.topic === 'data').length, 0, 'held: the TEK does not exclude e1');
  const { published } = runAlone(victim, now + 3, 6 * g.params.heartbeatMs);
  assert.ok(tekOf(victim).version >= bb.version + 3, 'resealed');
  assert.equal(published, 1, 'sent once, after the reseal');
});

// Member about to be excluded: while still a member, e1 signs a refresh "on top of" hi's next
// TEK (base = v+1 by hi, which does not exist yet) and seals its TEK' pairwise for the victim.
// The victim reads it and keeps it waiting for its base. hi then excludes e1, making v+1 by hi;
// with "a table read before its base TEK is applied once the base is" (§8.2), the victim
// installed e1's TEK v+2 on top of the exclusion of e1. Secure: a table waits only for a base
// whose exclusions it already names (a table made on that base knows them); a table made
// before its base existed, or by a member blocked since, is never applied from the wait.
test('excluded: a table pre-positioned on the TEK that excludes its author is not installed when that TEK arrives', () => {
  const { hi, m, e1, victim, bb, now } = raceGroup();
  const planted = new Attacker(e1).table({ kind: 'refresh', targets: [], base: { version: bb.version + 1, creators: [hi.key] }, blocklist: [], recipients: [m.key], createdAt: now });
  victim.receive(e1.key, 'unicast', planted.unicast, now);
  assert.deepEqual(tekOf(victim), bb, 'nothing applied yet: its base is not here');
  const X = new Attacker(hi).table({ targets: [e1.key], base: bb, blocklist: [e1.key], recipients: [m.key], createdAt: now + 1 });
  victim.receive(hi.key, 'unicast', X.unicast, now + 2);
  assert.ok(victim.isBlocked(e1.key));
  const tek = tekOf(victim);
  assert.notDeepEqual(tek.creators, [e1.key], `the victim is on a TEK made by the member it just excluded (v${tek.version})`);
  assert.deepEqual(tek, { slot: 0, version: bb.version + 1, revision: 0, creators: [hi.key] });
});

// The same planted table from a member that stays (an insider riding on hi's exclusion of e2):
// made before its base existed, it does not name e2; applied, it would leave the victim on a
// TEK that does not exclude e2, with no reseal scheduled. Secure: not applied from the wait.
test('member: a table planted on another member\'s next TEK is not applied on top of that member\'s exclusion', () => {
  const { hi, m, e1, e2, victim, bb, now } = raceGroup();
  const planted = new Attacker(e1).table({ kind: 'refresh', targets: [], base: { version: bb.version + 1, creators: [hi.key] }, blocklist: [], recipients: [m.key], createdAt: now });
  victim.receive(e1.key, 'unicast', planted.unicast, now);
  const X = new Attacker(hi).table({ targets: [e2.key], base: bb, blocklist: [e2.key], recipients: [m.key], createdAt: now + 1 });
  victim.receive(hi.key, 'unicast', X.unicast, now + 2);
  assert.deepEqual(tekOf(victim).creators, [hi.key], 'still on the TEK that excludes e2');
});

// The planted table again, now re-delivered after its base arrived: over a unicast, by
// anyone (a fresh identity of e1 is an outsider), with one junk entry so it counts as new.
// A readable table on our TEK was installed whoever signed it. Secure: a table whose excluder
// is blocked here is never installed (its author is excluded; T1 refuses it on arrival too).
test('excluded: the planted table re-delivered by an outsider after its base arrived is not installed', () => {
  const { hi, m, e1, victim, bb, now } = raceGroup();
  const E = new Attacker(e1);
  const base = { version: bb.version + 1, creators: [hi.key] };
  const planted = E.table({ kind: 'refresh', targets: [], base, blocklist: [], recipients: [m.key], createdAt: now });
  victim.receive(e1.key, 'unicast', planted.unicast, now);
  const X = new Attacker(hi).table({ targets: [e1.key], base: bb, blocklist: [e1.key], recipients: [m.key], createdAt: now + 1 });
  victim.receive(hi.key, 'unicast', X.unicast, now + 2);
  const onX = tekOf(victim);
  const junk = { slot: 1, kekVersion: 99, kekRevision: 0, sealed: new Uint8Array(48) };
  const outsider = new Attacker(identity('e1-second-identity'));
  const bytes = outsider.encode({ type: MsgType.Table, header: planted.header, headerSignature: planted.headerSignature, entries: [junk], pairwise: [] });
  victim.receive(outsider.key, 'unicast', bytes, now + 3);
  assert.deepEqual(tekOf(victim), onX, 'still on the TEK that excludes e1');
});

// The fetch path around the check above. e1 (lowest key) made a table concurrently with its
// own exclusion by hi; the victim holds e1's header, not its TEK', and is on hi's table. A
// fellow member c that took e1's table before it heard of the exclusion sent data under it,
// so the victim fetches that TEK from c (by its tag) and gets the TEK' e1's table commits to.
// Secure: a TEK whose table's excluder is blocked here is never installed, fetched or not,
// first reply or later ones (before: the first was refused by applyTable, a later one
// installed it as "a winner of the tie-break this member read").
test('excluded: a fetched TEK made by a blocked member is never installed, however often it is served', () => {
  const { g, lo, hi, m, c, victim, bb, now } = raceGroup();
  const planted = new Attacker(lo).table({ kind: 'refresh', targets: [], base: bb, blocklist: [], recipients: [], createdAt: now });
  victim.receive(lo.key, 'unicast', planted.unicast, now);
  const X = new Attacker(hi).table({ targets: [lo.key], base: bb, blocklist: [lo.key], recipients: [m.key], createdAt: now + 1 });
  victim.receive(hi.key, 'unicast', X.unicast, now + 2);
  const onX = tekOf(victim);
  assert.deepEqual(onX.creators, [hi.key]);
  const C = new Attacker(c);
  const info = { slot: 0, version: bb.version + 1, revision: 0, creators: [lo.key] };
  victim.receive(c.key, 'data', C.data({ params: g.params, tekVersion: info.version, tekTag: creatorsTag(nodeCrypto, [lo.key]), sentAt: now + 3 }), now + 3);
  let served = 0;
  for (let t = now + 10; t <= now + 20 * g.params.heartbeatMs; t += 10) {
    victim.tick(t);
    for (const o of drain(victim).out) {
      if (o.kind !== 'unicast' || o.to !== c.key || o.bytes[2] !== MsgType.FetchRequest) continue;
      served++;
      victim.receive(c.key, 'unicast', C.fetchReply(C.sealFor(m.key, 'fetch', info, planted.tekPrime), planted.unicast), t);
    }
  }
  assert.ok(served >= 1, 'the victim asked for the TEK');
  assert.notDeepEqual(tekOf(victim).creators, [lo.key], `installed the blocked member's TEK after ${served} replies`);
});
