// Review 35 (key panel, "ignored, not refused"; an honest group's false alarm): `before-admission`
// is decided from the roster *now*, so it does not stay. A newcomer's first heartbeat reaches a
// member before the newcomer's admission does (the honest case the change greys out:
// test/unit/honest-refusals.test.ts). When the group later excludes that newcomer — or it leaves —
// the very same count turns red, "Refused from n: sender is not a member", though nothing it sent
// changed and the refusal was the honest race of its join. Five real peers and one exclusion
// (tmp/review35/honest2.ts) showed exactly this at three members: "not-member ×2 from erin:
// author … is not in the roster", grey after the joins, red after erin's exclusion.
// Secure: a refusal of an input sent after its sender's admission was dated (it was only early
// news) stays `before-admission` whatever later becomes of the sender.
//
// The engine's events go to a RejectionLog judged against b's roster, as the peer's GroupRuntime
// builds it (group.ts `rejections`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drain, honestGroup, identity, deps, GROUP } from './forge.js';
import { GroupEngine } from '../../../app/core/engine.js';
import { MsgType } from '../../../app/core/wire.js';
import { RejectionLog } from '../../../app/peer/key-panel.js';

test('review35: excluding a newcomer turns the grey refusal of its early heartbeat into a red one', () => {
  const g = honestGroup(['a', 'b']);
  const a = g.e.a!;
  const b = g.e.b!;
  const B = g.ids.b!.key;
  const log = new RejectionLog((key) => {
    const state = b.rosterState(key);
    return state === null ? null : { state, admittedAt: b.rosterAdmittedAt(key) };
  });
  const take = () => {
    for (const ev of g.net.eventsOf(B).splice(0)) if (ev.type === 'rejected') log.note(ev);
    for (const ev of drain(b).events) if (ev.type === 'rejected') log.note(ev);
  };
  const listed = () => log.list();
  take();

  // n joins through a while b is away for a moment: b hears nothing of the admission.
  const n = identity('newcomer');
  g.gate.allowed.add(n.key);
  g.net.offline.add(B);
  g.net.add(n, GroupEngine.join(deps(n.name, { admission: g.gate }), n, { group: GROUP, name: 'g', params: g.params, credential: new Uint8Array(), contacts: [g.ids.a!.key], now: g.net.now }));
  g.net.run(g.net.now + 2 * g.params.heartbeatMs);
  assert.equal(g.e.a!.rosterState(n.key), 'member');
  const heartbeat = g.net.published(n.key, MsgType.Heartbeat).at(-1);
  assert.ok(heartbeat, 'n sent a heartbeat as a member');

  // Its heartbeat reaches b first (gossip is not ordered with the admission's news): refused.
  g.net.offline.delete(B);
  b.receive(n.key, 'control', heartbeat, g.net.now);
  take();
  const early = listed().find((r) => r.from === n.key && r.reason === 'not-member');
  assert.ok(early, 'b refused n\'s heartbeat as a non-member\'s');
  // Then the news comes: n is a member at b, and the count reads grey.
  g.net.run(g.net.now + 6 * g.params.heartbeatMs);
  take();
  assert.equal(b.rosterState(n.key), 'member', 'b learnt of n\'s admission');
  assert.equal(listed().find((r) => r.from === n.key && r.reason === 'not-member')?.expected, 'before-admission', 'the honest race reads grey');

  // Later the group excludes n.
  a.exclude([n.key], g.net.now);
  g.net.run(g.net.now + 6 * g.params.heartbeatMs);
  take();
  assert.equal(b.rosterState(n.key), 'excluded', 'b took the exclusion');
  const now = listed().find((r) => r.from === n.key && r.reason === 'not-member');
  assert.equal(now?.count, 1, 'still the one early heartbeat');
  assert.equal(now?.expected, 'before-admission', `the honest race of n's join now reads red: "refused from n: sender is not a member" (${now?.detail})`);
});
