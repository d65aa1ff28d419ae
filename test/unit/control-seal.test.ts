// Sealed control messages (docs/protocol.md §14, app/core/engine/control-seal.ts): which
// TEK seals what, and what a member does with one it cannot open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupEngine } from '../../app/core/engine.js';
import { MsgType } from '../../app/core/wire.js';
import type { EngineEvent } from '../../app/core/types.js';
import { advanceRevision } from '../../app/core/keys.js';
import { nodeCrypto } from '../../app/crypto/node.js';
import { Attacker, GROUP, assertRejectedUnchanged, currentTek, deps, drain, honestGroup, identity, tekOf, unicastsTo } from './attacks/forge.js';

const rejections = (events: readonly EngineEvent[]) => events.filter((e) => e.type === 'rejected');

test('a Table is sealed under the TEK it replaces: a member one rekey behind reads it and moves on', () => {
  const g = honestGroup(['a', 'b', 'c', 'd']);
  const dKey = g.ids.d!.key;
  const base = tekOf(g.e.a!);
  g.net.offline.add(dKey);
  const since = g.net.log.length;
  g.e.a!.exclude([g.ids.c!.key], g.net.now);
  g.net.settle();
  const sent = g.net.log.slice(since).find((s) => s.from === g.ids.a!.key && s.t.kind === 'publish' && g.net.opener.typeOf(s.t.bytes) === MsgType.Table);
  assert.ok(sent && sent.t.kind === 'publish');
  const header = g.net.opener.header(sent.t.bytes)!;
  assert.equal(header.tekVersion, base.version, 'sealed under the base TEK');
  const d = g.e.d!;
  drain(d);
  d.receive(g.ids.a!.key, 'control', sent.t.bytes, g.net.now);
  const { events } = drain(d);
  assert.deepEqual(rejections(events), [], 'd opens it');
  assert.equal(d.tekInfo()!.version, base.version + 1, 'd read TEK′ from the entries');
  assert.ok(d.isBlocked(g.ids.c!.key));
});

test('a member that cannot open a heartbeat under a newer TEK takes it as "someone is ahead" and fetches', () => {
  const g = honestGroup(['a', 'b', 'c', 'd']);
  const dKey = g.ids.d!.key;
  const base = tekOf(g.e.a!);
  g.net.offline.add(dKey);
  g.e.a!.exclude([g.ids.c!.key], g.net.now);
  g.net.run(g.net.now + 3 * g.params.heartbeatMs); // d misses the table and its completions
  g.net.offline.delete(dKey);
  const since = g.net.log.length;
  g.net.run(g.net.now + 2 * g.params.heartbeatMs + g.params.fetchAfterMs);
  const d = g.e.d!;
  assert.equal(d.tekInfo()!.version, base.version + 1, 'd caught up');
  assert.ok(d.isBlocked(g.ids.c!.key), 'with the table');
  const asked = g.net.log.slice(since).filter((s) => s.from === dKey && s.t.kind === 'unicast' && s.t.bytes[2] === MsgType.FetchRequest);
  assert.ok(asked.length > 0, 'by a fetch');
  const refused = (g.net.events.get(dKey) ?? []).filter((e) => e.type === 'rejected' && e.reason === 'unopenable-control');
  assert.deepEqual(refused, [], 'a heartbeat under a TEK it lacks is no offence');
});

test('a control message under a TEK the member holds that does not open is rejected as unopenable and changes nothing', () => {
  const g = honestGroup(['a', 'b', 'c']);
  const mallory = new Attacker(identity('mallory'));
  const victim = g.e.b!;
  const cur = tekOf(victim);
  // The real TEK's version and creators in the header, a key of mallory's own making.
  const hb = mallory.heartbeat({ sentAt: g.net.now, keys: [cur] });
  const { events } = assertRejectedUnchanged(victim, mallory.key, () => victim.receive(mallory.key, 'control', hb, g.net.now), 'forged sealed heartbeat');
  assert.equal(events.find((e) => e.type === 'rejected')?.type === 'rejected' && (events.find((e) => e.type === 'rejected') as { reason: string }).reason, 'unopenable-control');
});

test('a control message from an excluded member is answered with its exclusion, whatever it carries', () => {
  const g = honestGroup(['a', 'b', 'x']);
  const x = new Attacker(g.ids.x!);
  const oldTek = tekOf(g.e.x!);
  g.e.a!.exclude([g.ids.x!.key], g.net.now);
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  const victim = g.e.a!; // the excluder published the table: it answers
  x.sealUnder({ ...oldTek, key: new Uint8Array(32) });
  const { out } = assertRejectedUnchanged(victim, x.key, () => victim.receive(x.key, 'control', x.leave(g.net.now), g.net.now), 'sealed control from an excluded member');
  assert.equal(unicastsTo(out, x.key, MsgType.Table).length, 1, 'its exclusion header, in clear, to it alone');
  x.sealUnder(null);
});

test('a joiner keeps what it cannot open yet and opens it once it holds the TEK, from its own admission revision on', () => {
  const g = honestGroup(['a', 'b']);
  const c = identity('c');
  const e = identity('e');
  const f = identity('f');
  g.gate.allowed.add(c.key);
  // b announces newcomers as their admitter: e under the TEK revision c will be admitted at
  // (a steps it once for c, 003 [0064]), f under the revision before (c must not read that).
  const b = new Attacker(g.ids.b!);
  const tek = currentTek(g.e.b!)!;
  b.sealUnder({ ...tek, revision: tek.revision + 1, key: advanceRevision(nodeCrypto, tek.key, tek.revision, tek.revision + 1) });
  const announcement = b.memberAdmitted([{ key: e.key, name: 'e', admittedAt: g.net.now }]);
  b.sealUnder(tek);
  const before = b.memberAdmitted([{ key: f.key, name: 'f', admittedAt: g.net.now }]);
  b.sealUnder(null);
  const joiner = GroupEngine.join(deps('c', { admission: g.gate }), c, { group: GROUP, name: 'g', params: g.params, credential: new Uint8Array(), contacts: [g.ids.a!.key], now: g.net.now });
  joiner.receive(g.ids.b!.key, 'control', announcement, g.net.now);
  joiner.receive(g.ids.b!.key, 'control', before, g.net.now);
  const events: EngineEvent[] = [];
  for (let ev = joiner.pollEvent(); ev; ev = joiner.pollEvent()) events.push(ev);
  assert.deepEqual(rejections(events), [], 'kept, not refused');
  g.net.add(c, joiner);
  g.net.settle();
  g.net.run(g.net.now + g.params.heartbeatMs);
  assert.equal(joiner.state(), 'member');
  assert.ok(joiner.members().some((m) => m.key === e.key && m.state === 'member'), 'the kept announcement was opened after joining');
  assert.ok(!joiner.members().some((m) => m.key === f.key), 'one sealed before its admission stays closed to it (backward secrecy)');
  assert.ok((g.net.events.get(c.key) ?? []).some((ev) => ev.type === 'rejected' && ev.reason === 'stale'), 'and is refused as stale');
});

test('an outsider without the TEK cannot make a member open anything: a fake TEK version ahead from a stranger is refused', () => {
  const g = honestGroup(['a', 'b', 'c']);
  const mallory = new Attacker(identity('mallory'));
  const victim = g.e.b!;
  const cur = tekOf(victim);
  const hb = mallory.heartbeat({ sentAt: g.net.now, keys: [{ slot: 0, version: cur.version + 1, revision: 0, creators: [mallory.key] }] });
  const { out, events } = assertRejectedUnchanged(victim, mallory.key, () => victim.receive(mallory.key, 'control', hb, g.net.now), 'stranger ahead');
  assert.equal((events.find((x) => x.type === 'rejected') as { reason: string }).reason, 'not-member');
  assert.equal(out.length, 0, 'no fetch, no join request');
});
