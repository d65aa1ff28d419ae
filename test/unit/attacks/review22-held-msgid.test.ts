// Review 22 (6c3c311 relies on it: the oracle now judges held messages, app/sim/report.ts).
// The simulator names a scenario message `${from}#${data.length}` (Recorder.nextMsgId): the
// count of data packets published so far. While a member holds its outgoing data (its TEK does
// not cover its blocklist) nothing is published, so every message it sends meanwhile gets the
// same id; when they go out, a reader's `data` event is credited to the first packet with that
// id only (Recorder.read), and the others are reported as `missed` by every member.
// Seed 3 of the admin race of review 20's tests (m0 excludes m5 while m1 excludes m0), j joins
// through m2 at 8 s and sends once a second: j holds j13000..j16000 until its wait ends at
// ~16.1 s, every member reads all four (the engine emits each), and the report says 42 misses.
// Secure: a false `missed` hides nothing, but it makes every test of held data (review 20, 22)
// count wrong; each scenario message gets its own id. Fails on 6c3c311 (and before).
// Fixed: Recorder.nextMsgId counts sends, not packets published.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../scenario/helpers.js';

test('messages a member sends while it holds its data each count as read when they go out', () => {
  const events: unknown[] = [
    { at: 0, do: 'create', peer: 'a', policy: { exclude: 'admins', admins: ['a', 'm0', 'm1'] } },
    { at: 0, do: 'bootstrap', creator: 'a', prefix: 'm', count: 15 },
    { at: 4000, do: 'exclude', peers: ['m5'], by: 'm0' },
    { at: 4000, do: 'exclude', peers: ['m0'], by: 'm1' },
    { at: 8000, do: 'join', peer: 'j', via: 'm2' },
  ];
  for (let t = 9000; t < 17000; t += 1000) events.push({ at: t, do: 'send', peer: 'j', text: `j${t}` });
  const { report, sim } = run({ params: {}, network: { latencyMs: [5, 40], loss: 0 }, events, until: 30000 }, 3);
  const ids = report.messages.filter((m) => m.from === 'j').map((m) => `${m.text}:${m.readBy.length}`);
  // Every member but j reads each: 15 since m5's exclusion falls with m0's (core/engine/exclusion-contest.ts), 14 before.
  const readers = [...sim.peers.values()].filter((p) => p.name !== 'j' && p.engine?.state() === 'member').length;
  assert.ok(readers >= 14, `${readers} members`);
  // Before the fix: j13000..j16000 published at ~16085, j14000, j15000, j16000 read by 0 (one id for all four).
  assert.deepEqual(ids.filter((s) => !s.endsWith(`:${readers}`)), [], ids.join(' '));
});
