// Written down at the last stop: the engine holds an own payload while its TEK does not cover its whole
// blocklist (core/engine/data.ts, §7.2: two concurrent exclusions, until the reseal), in memory only.
// A chat message the API acknowledged in that window (in the author's history, fsynced) was lost
// with a kill before the reseal: never published, a gap in the author's numbers nobody could fill.
// Now it is marked held in the history like one behind an unsaved key turn (review 38), and after
// a restart it is published again once the engine sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePayload } from '../../../app/peer/payload.js';
import { setup } from './unsaved-runtime.js';
import type { GroupRuntime } from '../../../app/peer/group.js';

/**
 * a (a real runtime over a profile) in a group of five, after b excluded d and c excluded e at once:
 * a read both tables, and its TEK (one table's) covers only one target until a reseal.
 */
async function afterConcurrentExclusions(t: Parameters<typeof setup>[0]) {
  const s = setup(t, ['a', 'b', 'c', 'd', 'e']);
  const { g } = s;
  const key = (n: string) => g.ids[n]!.key;
  let fed = g.net.log.length;
  /** `rt` (a's runtime) reads everything the others sent since a last did (or since log entry `from`). */
  const feed = (rt: GroupRuntime, from = fed): void => {
    for (const m of g.net.log.slice(from)) {
      if (m.t.kind === 'unicast') {
        if (m.t.to === s.a.key) rt.receive(m.from, 'unicast', m.t.bytes);
      } else rt.receive(m.from, m.t.topic, m.t.bytes);
    }
    fed = g.net.log.length;
  };
  /** One heartbeat: the others run, `rt` reads them and ticks, b reads what a sent. */
  const beat = (rt: GroupRuntime): void => {
    s.advance(g.params.heartbeatMs);
    g.net.run(s.now(), 1000);
    feed(rt);
    rt.engine.tick(s.now());
    rt.drive();
    s.deliverToB();
  };
  g.e.b!.exclude([key('d')], g.net.now);
  g.e.c!.exclude([key('e')], g.net.now);
  g.net.settle();
  feed(s.rt);
  return { s, g, key, feed, beat };
}

test('a chat message the engine held for a reseal reaches the others after a kill', async (t) => {
  const { s, beat } = await afterConcurrentExclusions(t);
  assert.ok(s.rt.engine.heldSince().length === 0, 'nothing held yet');
  const acked = await s.rt.sendChat('during the reseal wait');
  assert.equal(s.rt.engine.heldSince().length, 1, 'the engine holds the message (setup: a window before the reseal)');
  s.rt.save();
  // Killed: no stop, nothing of the engine's memory survives.
  const again = s.restart();
  for (let i = 0; i < 20 && chatIds().length === 0; i++) beat(again);
  function chatIds(): string[] {
    return s.bEvents.flatMap((e) => {
      if (e.type !== 'data' || e.from !== s.a.key) return [];
      const p = decodePayload(e.payload);
      return p && p.t === 'msg' ? [p.m.id] : [];
    });
  }
  assert.deepEqual(chatIds(), [acked.id], 'b received the acknowledged message');
  // Published once: the next restart does not send it again.
  again.stop();
  const third = s.restart();
  for (let i = 0; i < 3; i++) beat(third);
  assert.deepEqual(chatIds(), [acked.id], 'not published again after the next restart');
});

test('a payload the engine drops with its keys (its own exclusion) leaves no tag behind to name a later publication', async (t) => {
  const { s, g, key, feed } = await afterConcurrentExclusions(t);
  await s.rt.sendChat('held, then dropped with the keys');
  assert.equal(s.rt.engine.heldSince().length, 1, 'setup: the engine holds it');
  // b excludes a before any reseal reaches a: a's engine erases its keys and what it held.
  const before = g.net.log.length;
  g.e.b!.exclude([s.a.key], g.net.now);
  g.net.settle();
  const tables = g.net.log.slice(before);
  g.net.log.splice(before, tables.length, ...tables.filter((m) => m.from === key('b')));
  feed(s.rt, before);
  assert.notEqual(s.rt.engine.state(), 'member', 'a is excluded');
  assert.equal(s.rt.engine.heldSince().length, 0, 'the engine dropped the payload');
  const tags = (s.rt as unknown as { sendTags: unknown[] }).sendTags;
  assert.deepEqual(tags, [], 'no tag waits for a payload nobody holds');
});
