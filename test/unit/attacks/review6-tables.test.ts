// Red-team review 6 of how a member takes key TABLES (docs/protocol.md §12 T1, §8.2):
// a table delivered by unicast from a sender that is not a member, a current member's
// table planted on a TEK it does not cover, and tables too large for the wire.
// Each test asserts the SECURE (or live) outcome.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupEngine } from '../../../app/core/engine.js';
import { LIMITS, MsgType } from '../../../app/core/wire.js';
import { Attacker, assertRejectedUnchanged, drain, honestGroup, identity, tekOf, type Group } from './forge.js';

/** Five members; only the victim `v` runs from here on: the tests speak for the others with their keys. */
function victimAlone(): { g: Group; victim: GroupEngine; now: number } {
  const g = honestGroup(['a', 'b', 'm', 'x', 'v']);
  for (const k of Object.keys(g.e)) if (k !== 'v') g.net.offline.add(g.ids[k]!.key);
  return { g, victim: g.e.v!, now: g.net.now };
}

/** Runs `victim` alone for `ms`; counts the data packets it publishes. */
function runAlone(victim: GroupEngine, from: number, ms: number): { published: number } {
  let published = 0;
  for (let now = from + 10; now <= from + ms; now += 10) {
    victim.tick(now);
    for (const o of drain(victim).out) if (o.kind === 'publish' && o.topic === 'data') published++;
  }
  return { published };
}

/** `a` excludes `x`: the victim installs TEK v+1 by `a` from its table (read through a pairwise entry). */
function excludeX(g: Group, victim: GroupEngine, now: number) {
  const bb = tekOf(victim);
  const X = new Attacker(g.ids.a!).table({ targets: [g.ids.x!.key], base: bb, blocklist: [g.ids.x!.key], recipients: [g.ids.v!.key], createdAt: now });
  victim.receive(g.ids.a!.key, 'unicast', X.unicast, now);
  assert.ok(victim.isBlocked(g.ids.x!.key));
  assert.deepEqual(tekOf(victim).creators, [g.ids.a!.key]);
  return { bb, onX: tekOf(victim), X };
}

// Lead 2 (review 5): a current member `m` signs a refresh on the TEK that excludes x, with a
// blocklist that omits x, and delivers it. Its TEK does not exclude x, so the victim would hold
// its data (it sends only under a TEK that covers its blocklist). Review 6 bounded the hold by a
// reseal after the back-off; review 7 found `m` plants again after every reseal. Live since
// review 7: the table omits an exclusion its own base covers, which no honest lag does (T1):
// refused, unchanged, and the victim's data goes out at once under the TEK that excludes x.
test('member: a refresh on the current TEK that omits an exclusion is refused; data goes out at once', () => {
  const { g, victim, now } = victimAlone();
  const { onX } = excludeX(g, victim, now);
  const plant = new Attacker(g.ids.m!).table({ kind: 'refresh', targets: [], base: onX, blocklist: [], recipients: [g.ids.v!.key], createdAt: now + 1 });
  const got = assertRejectedUnchanged(victim, g.ids.m!.key, () => victim.receive(g.ids.m!.key, 'unicast', plant.unicast, now + 1), 'plant');
  assert.ok(got.events.some((ev) => ev.type === 'rejected' && ev.reason === 'invalid'), 'refused as invalid');
  assert.deepEqual(tekOf(victim), onX);
  victim.send(new Uint8Array([1]), now + 2);
  assert.equal(drain(victim).out.filter((o) => o.kind === 'publish' && o.topic === 'data').length, 1, 'sent at once under the TEK that excludes x');
  runAlone(victim, now + 2, 6 * g.params.heartbeatMs);
  assert.equal(tekOf(victim).version, onX.version, 'nothing to reseal');
});

// Lead 2 as reported: `m` signs the refresh BEFORE its base exists (it guesses that `a` makes
// v+1), the victim keeps it waiting (review 5: it is not applied from the wait, its blocklist
// does not name x); once v+1 is here, `m` sends the same table again with one new entry and
// the victim installs it. Live: the same bound as above (reseal after the back-off).
test('member: a table planted before its base and re-sent after it is resealed after the back-off', () => {
  const { g, victim, now } = victimAlone();
  const bb = tekOf(victim);
  const M = new Attacker(g.ids.m!);
  const plant = M.table({ kind: 'refresh', targets: [], base: { version: bb.version + 1, creators: [g.ids.a!.key] }, blocklist: [], recipients: [g.ids.v!.key], createdAt: now });
  victim.receive(g.ids.m!.key, 'unicast', plant.unicast, now);
  assert.deepEqual(tekOf(victim), bb, 'waiting for its base');
  const { onX } = excludeX(g, victim, now + 1);
  assert.deepEqual(tekOf(victim), onX, 'not applied from the wait (review 5)');
  // The same signed header again, with one more (junk) pairwise entry so it counts as new.
  const again = M.encode({ type: MsgType.Table, header: plant.header, headerSignature: plant.headerSignature, entries: [], pairwise: [{ member: g.ids.b!.key, sealed: M.bytes(48) }] });
  victim.receive(g.ids.m!.key, 'unicast', again, now + 2);
  drain(victim);
  assert.deepEqual(tekOf(victim), onX, 'not installed once its base is here either: it omits x, whom its base excluded (review 7)');
  victim.send(new Uint8Array([2]), now + 3);
  const { published } = runAlone(victim, now + 3, 6 * g.params.heartbeatMs);
  assert.ok(victim.isBlocked(g.ids.x!.key));
  assert.equal(published, 1, 'the held message goes out once the victim holds a TEK that excludes x');
});

/** `n` keys of identities that were never members (exclusions may name anyone: a pre-emptive block). */
function strangers(n: number): string[] {
  return Array.from({ length: n }, (_, i) => identity(`stranger-${i}`).key).sort();
}

/** Every reason a `rejected` event of `e` gave so far (events already collected by the net). */
function rejections(g: Group, name: string): string[] {
  return g.net.eventsOf(g.ids[name]!.key).flatMap((ev) => (ev.type === 'rejected' ? [ev.reason] : []));
}

// Lead 3: a header names at most LIMITS.targets (256) targets; every receiver refuses a
// longer one at decode. Liveness bug: an honest exclusion of more members than that (one
// call, a reseal after large concurrent exclusions) produced one such table, so it never
// landed anywhere. Live: the excluder splits it into a chain of tables that all decode.
test('honest: an exclusion of more than LIMITS.targets members reaches every member', () => {
  const g = honestGroup(['a', 'b', 'c', 'x']);
  const many = [...strangers(LIMITS.targets + 44), g.ids.x!.key];
  g.e.a!.exclude(many, g.net.now);
  g.net.settle();
  g.net.run(g.net.now + 4 * g.params.heartbeatMs);
  for (const n of ['b', 'c']) {
    assert.ok(!rejections(g, n).includes('decode'), `${n} decoded every table`);
    assert.equal(g.e[n]!.blocklist().length, many.length, `${n} blocks all ${many.length}`);
    assert.deepEqual(tekOf(g.e[n]!).creators, tekOf(g.e.a!).creators);
    assert.equal(tekOf(g.e[n]!).version, tekOf(g.e.a!).version, `${n} is on the excluder's TEK`);
  }
  assert.ok(tekOf(g.e.a!).version >= 3, 'more than one table');
});

// Lead 3, the reseal: the victim blocks more than LIMITS.targets members its TEK does not
// exclude (here a concurrent exclusion that loses to the one the victim took, whose blocklist
// names them; before review 7, a member's refresh that omits them, now refused); its reseal
// re-excludes them all. Every table it publishes must decode.
test('honest: a reseal that re-excludes more than LIMITS.targets members publishes only tables that decode', () => {
  const { g, victim, now } = victimAlone();
  const bb = tekOf(victim);
  const many = strangers(LIMITS.targets + 20);
  // The lowest-keyed of a, b, m excludes x; the highest makes a sibling (same base and version), which loses here.
  const [lo, , hi] = ['a', 'b', 'm'].map((n) => g.ids[n]!).sort((p, q) => (p.key < q.key ? -1 : 1));
  const X = new Attacker(lo!).table({ targets: [g.ids.x!.key], base: bb, blocklist: [g.ids.x!.key], recipients: [g.ids.v!.key], createdAt: now });
  victim.receive(lo!.key, 'unicast', X.unicast, now);
  const onX = tekOf(victim);
  assert.deepEqual(onX.creators, [lo!.key]);
  const sibling = new Attacker(hi!).table({ targets: [many[0]!], base: bb, blocklist: many, recipients: [g.ids.v!.key], createdAt: now + 1 });
  victim.receive(hi!.key, 'unicast', sibling.unicast, now + 1);
  assert.equal(victim.blocklist().length, many.length + 1);
  assert.deepEqual(tekOf(victim), onX, 'the sibling loses to the lower excluder\'s table');
  drain(victim);
  const tables: Uint8Array[] = [];
  for (let t = now + 10; t <= now + 6 * g.params.heartbeatMs; t += 10) {
    victim.tick(t);
    for (const k of victim.exportKeyMaterial()) g.net.opener.add(k);
    for (const o of drain(victim).out) if (o.kind === 'publish' && o.topic === 'control' && g.net.opener.typeOf(o.bytes) !== MsgType.Heartbeat) tables.push(o.bytes);
  }
  assert.ok(tekOf(victim).version > bb.version + 2, 'resealed');
  assert.ok(tables.length >= 1, 'the reseal went out');
  for (const b of tables) assert.equal(g.net.opener.typeOf(b), MsgType.Table, 'a table every member can decode');
});

/** Unicasts of `victim` in `out` that are FetchRequests, by addressee. */
function fetchesTo(out: ReturnType<typeof drain>['out']): string[] {
  return out.flatMap((o) => (o.kind === 'unicast' && o.bytes[2] === MsgType.FetchRequest ? [o.to] : []));
}

// Lead 1: a Table by unicast from a sender that is not a member. The header is signed by its
// excluder, so forwarding a genuine one cannot forge a key; but the receiver recorded the
// forwarder as a publisher of the table (its first choice to fetch TEK′ from, ahead of the
// excluder), marked it seen, and kept the unsigned entries it added. Attack: three strangers
// forward a genuine table the victim cannot read; its fetches go to them, one round each,
// before it asks the excluder. Secure: a unicast table comes from a current member (a fetch
// reply, F2) or is this member's own exclusion notice; anything else is rejected unchanged.
test('outsider: a genuine table forwarded by unicast from non-members is rejected and steers no fetch', () => {
  const { g, victim, now } = victimAlone();
  const bb = tekOf(victim);
  const T = new Attacker(g.ids.a!).table({ targets: [g.ids.x!.key], base: bb, blocklist: [g.ids.x!.key], recipients: [], createdAt: now });
  const outsiders = ['o1', 'o2', 'o3'].map((n) => new Attacker(identity(n)));
  for (const [i, o] of outsiders.entries()) {
    // Each forward adds one junk pairwise entry (for a member), so it is not a mere replay.
    const bytes = o.encode({ type: MsgType.Table, header: T.header, headerSignature: T.headerSignature, entries: [], pairwise: [{ member: g.ids.b!.key, sealed: o.bytes(48 + i) }] });
    assertRejectedUnchanged(victim, o.key, () => victim.receive(o.key, 'unicast', bytes, now + i), `a table forwarded by outsider ${o.id.name}`);
  }
  victim.receive(g.ids.a!.key, 'control', new Attacker(g.ids.a!).control({ type: MsgType.Table, header: T.header, headerSignature: T.headerSignature, entries: [], pairwise: [] }, bb), now + 5);
  const asked: string[] = [];
  for (let t = now + 10; t <= now + 4 * g.params.fetchAfterMs; t += 10) {
    victim.tick(t);
    asked.push(...fetchesTo(drain(victim).out));
  }
  assert.ok(asked.length > 0, 'the victim fetches TEK′ it cannot read');
  assert.equal(asked[0], g.ids.a!.key, 'the excluder first');
  // Then any current member (review 12: the excluder may be gone), never an outsider.
  const outsiderKeys = new Set(outsiders.map((o) => o.key));
  assert.ok(asked.every((k) => !outsiderKeys.has(k) && victim.rosterState(k) === 'member'), `only current members are asked: ${asked.map((k) => k.slice(0, 8)).join(', ')}`);
});

// Lead 1, the exception: an excluded member learns of its exclusion from the signed header
// alone (003 [0075], tellExcluded), possibly sent by a member it does not know yet. Harmless
// from anyone: it is checked like any table (signature, authority) and only says what its
// authorized excluder signed.
test('outsider: forwarding a member its own genuine exclusion only tells it the truth', () => {
  const { g, victim, now } = victimAlone();
  const T = new Attacker(g.ids.a!).table({ targets: [g.ids.v!.key], base: tekOf(victim), blocklist: [g.ids.v!.key], recipients: [], createdAt: now });
  const o = new Attacker(identity('o1'));
  victim.receive(o.key, 'unicast', T.unicast, now);
  assert.equal(victim.state(), 'excluded');
  // The exception opens no door: a notice that does not verify is rejected as any table.
  const fresh = g.e.b!;
  const forged = new Attacker(g.ids.x!).table({ targets: [g.ids.b!.key], base: tekOf(fresh), blocklist: [g.ids.b!.key], recipients: [], createdAt: now, signature: 'zero' });
  assertRejectedUnchanged(fresh, o.key, () => fresh.receive(o.key, 'unicast', forged.unicast, now), 'a forged exclusion notice');
});

// Lead 1 (a), for the senders that remain (members relay and answer fetches with tables): a
// superseded genuine table sent again after the grace window dropped it changes no key,
// schedules no fetch and no reseal. (An older one only adds its signed, authorized exclusions.)
test('member: a superseded table re-sent after the grace window rolls nothing back and starts no work', () => {
  const { g, victim, now } = victimAlone();
  const { onX, X } = excludeX(g, victim, now);
  const R = new Attacker(g.ids.a!).table({ kind: 'refresh', targets: [], base: onX, blocklist: [g.ids.x!.key], recipients: [g.ids.v!.key], createdAt: now + 1 });
  victim.receive(g.ids.a!.key, 'unicast', R.unicast, now + 1);
  const cur = tekOf(victim);
  assert.equal(cur.version, onX.version + 1);
  const later = now + g.params.graceMs + 10 * g.params.heartbeatMs;
  runAlone(victim, now + 1, later - now);
  drain(victim);
  victim.receive(g.ids.b!.key, 'unicast', X.unicast, later);
  let out: ReturnType<typeof drain>['out'] = [];
  for (let t = later + 10; t <= later + 4 * g.params.fetchAfterMs; t += 10) {
    victim.tick(t);
    out = out.concat(drain(victim).out);
  }
  assert.equal(tekOf(victim).version, cur.version, 'no roll-back');
  assert.deepEqual(tekOf(victim).creators, cur.creators);
  assert.deepEqual(fetchesTo(out), [], 'no fetch');
  assert.equal(out.filter((o) => o.kind === 'publish' && o.topic === 'control' && g.net.opener.typeOf(o.bytes) === MsgType.Table).length, 0, 'no reseal');
});
