// Roster convergence: a member that was not listening when a newcomer was announced
// (it was joining itself, or briefly cut off) still learns the newcomer, from the
// admitter's second announcement a few heartbeats later (docs/protocol.md §5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupEngine } from '../../app/core/engine.js';
import { MsgType } from '../../app/core/wire.js';
import { GROUP, deps, honestGroup, identity } from './attacks/forge.js';

test('a member that missed a newcomer\'s announcement learns it from the second one', () => {
  const g = honestGroup(['a', 'b', 'c']);
  const d = identity('d');
  g.gate.allowed.add(d.key);
  g.net.offline.add(g.ids.b!.key); // b hears nothing while d is admitted and first announced
  const joiner = g.net.add(d, GroupEngine.join(deps('d', { admission: g.gate }), d, { group: GROUP, name: 'g', params: g.params, credential: new Uint8Array(), contacts: [g.ids.a!.key], now: g.net.now }));
  g.net.settle();
  g.net.run(g.net.now + g.params.heartbeatMs);
  assert.equal(joiner.state(), 'member');
  assert.ok(g.e.c!.members().some((m) => m.key === d.key && m.state === 'member'), 'c heard the first announcement');
  assert.ok(!g.e.b!.members().some((m) => m.key === d.key), 'b missed it');
  g.net.offline.delete(g.ids.b!.key);
  g.net.run(g.net.now + 4 * g.params.heartbeatMs);
  assert.ok(g.e.b!.members().some((m) => m.key === d.key && m.state === 'member'), 'b knows d');
  // The admitter announced d twice (a key request from d may also have told b; the second
  // announcement is what reaches every member that missed the first).
  const announcements = g.net.published(g.ids.a!.key, MsgType.MemberAdmitted).filter((bytes) => {
    const m = g.net.open(bytes);
    return m?.type === MsgType.MemberAdmitted && m.members.some((x) => x.key === d.key);
  });
  assert.equal(announcements.length, 2, 'announced once, then once more');
});

test('rosterState, rosterName and memberCount answer what members() lists, for members, an excluded one and a stranger', () => {
  const g = honestGroup(['a', 'b', 'c', 'e']);
  g.e.a!.exclude([g.ids.e!.key], g.net.now);
  g.net.settle();
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  const b = g.e.b!;
  const listed = b.members();
  assert.equal(listed.find((m) => m.key === g.ids.e!.key)?.state, 'excluded');
  for (const m of listed) {
    assert.equal(b.rosterState(m.key), m.state, m.key);
    assert.equal(b.rosterName(m.key), m.name, m.key);
  }
  assert.equal(b.rosterName(identity('stranger').key), '');
  assert.equal(b.rosterState(identity('stranger').key), null);
  assert.equal(b.rosterState('__proto__'), null, 'a key that names an Object property is no roster entry');
  assert.equal(b.memberCount(), listed.filter((m) => m.state === 'member').length);
  assert.equal(b.memberCount(), 3);
});
