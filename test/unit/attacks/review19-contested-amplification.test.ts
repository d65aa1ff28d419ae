// Review 19 (uncommitted change "admin races": rekey-triggers.ts stillContested /
// madeByItsExcluders). Review 16's bound on the contested-TEK sign is "one junk message costs
// the group about one reseal": a sign stands only while our TEK is the one we held when we saw
// it, so the first member's reseal makes every other member's moot. The change keeps a sign
// when our TEK was made by the contested creator's own excluders (`blockedBy`). But every
// member records as a supporter every admin whose table names the creator, and a contested
// reseal is exactly such a table: after the first admin's reseal, every other admin's TEK is
// "made by its excluders", its sign stands, and it reseals too. Under `admins`, one sealed
// heartbeat from a non-admin insider under an excluded member's tag makes EVERY admin reseal
// (8 tables among 8 admins, 1 at HEAD), per excluded member: B excluded members, B messages,
// B x admins reseals, each holding every member's outgoing data for a round.
// Secure: about one reseal in the group, as under `any-member` (and as at HEAD).
// Test 1 fails on the change; the any-member control and the nudge bound pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attacker, PARAMS, honestGroup, identity } from './forge.js';
import { MsgType } from '../../../app/core/wire.js';
import { nodeCrypto } from '../../../app/crypto/node.js';

const HONEST = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

function tablesAfterOneJunkMessage(policy: 'admins' | 'any-member', ahead: number): number {
  const admins = HONEST.map((n) => identity(n).key);
  const params = { ...PARAMS, W: 8, ...(policy === 'admins' ? { policy: { exclude: 'admins' as const, admins } } : {}) };
  const g = honestGroup([...HONEST, 'm', 'x'], { params });
  const m = new Attacker(g.ids.m!);
  g.e.a!.exclude([g.ids.x!.key], g.net.now);
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  g.net.offline.add(g.ids.m!.key); // m, a non-admin, speaks only through what it crafts
  const total = () => HONEST.reduce((s, w) => s + g.net.published(g.ids[w]!.key, MsgType.Table).length, 0);
  const before = total();
  const v = g.e.b!.tekInfo()!.version;
  m.sealUnder({ slot: 0, version: v + ahead, creators: [g.ids.x!.key], revision: 0, key: nodeCrypto.sha256(new Uint8Array([ahead, 19])) });
  const hb = m.heartbeat({ sentAt: g.net.now + 1, keys: [] });
  m.sealUnder(null);
  for (const w of HONEST) g.e[w]!.receive(m.key, 'control', hb, g.net.now);
  g.net.run(g.net.now + 20 * g.params.heartbeatMs);
  for (const w of HONEST) assert.equal(g.e[w]!.state(), 'member');
  return total() - before;
}

test("admins policy: one junk message under an excluded member's tag costs about one reseal, not one per admin", () => {
  const n = tablesAfterOneJunkMessage('admins', 0);
  // Now: 8 (every admin reseals once); HEAD: 1.
  assert.ok(n <= 2, `8 admins published ${n} tables after one sealed heartbeat of a non-admin`);
});

test("control: under any-member the same message costs one reseal (unchanged)", () => {
  const n = tablesAfterOneJunkMessage('any-member', 0);
  assert.ok(n <= 2, `${n} tables`);
});

// The nudge (nudgeToward): an admin that sees a current member on an older TEK made by a member
// blocked here unicasts it up to 8 exclusion headers, at most once per 4 heartbeats per member.
// A non-admin sealing one such message every heartbeat gets no more than that bound from each
// admin (it only reflects onto itself: the unicast goes to the authenticated sender).
test('held: the nudge is bounded per member: at most 8 headers per admin per 4 heartbeats', () => {
  const admins = ['a', 'b', 'c'].map((n) => identity(n).key);
  const params = { ...PARAMS, policy: { exclude: 'admins' as const, admins } };
  const g = honestGroup(['a', 'b', 'c', 'd', 'm', 'x', 'y'], { params });
  for (const t of ['x', 'y']) {
    g.e.a!.exclude([g.ids[t]!.key], g.net.now);
    g.net.run(g.net.now + 4 * g.params.heartbeatMs);
  }
  const m = new Attacker(g.ids.m!);
  g.net.offline.add(m.key);
  const hb = g.params.heartbeatMs;
  const rounds = 40;
  const from = g.net.log.length;
  for (let i = 0; i < rounds; i++) {
    const v = g.e.b!.tekInfo()!.version;
    m.sealUnder({ slot: 0, version: v - 1, creators: [g.ids.x!.key], revision: 0, key: nodeCrypto.sha256(new Uint8Array([i, 20])) });
    const msg = m.heartbeat({ sentAt: g.net.now + 1 + i, keys: [] });
    m.sealUnder(null);
    for (const w of ['a', 'b', 'c', 'd']) g.e[w]!.receive(m.key, 'control', msg, g.net.now);
    g.net.run(g.net.now + hb);
  }
  const toM = g.net.log.slice(from).filter((s) => s.t.kind === 'unicast' && s.t.to === m.key && s.t.bytes[2] === MsgType.Table);
  const perAdmin = ['a', 'b', 'c'].map((n) => toM.filter((s) => s.from === g.ids[n]!.key).length);
  const bound = 8 * (Math.ceil(rounds / 4) + 1);
  // Measured: 20 headers from each admin (10 nudges of the 2 tables); 80 without the per-member limit.
  for (const k of perAdmin) assert.ok(k > 0 && k <= bound, `${k} headers from one admin in ${rounds} heartbeats (bound ${bound})`);
  assert.equal(toM.filter((s) => s.from === g.ids.d!.key).length, 0, 'a non-admin never nudges');
});
