// Review 7 (data path, red team). Each test runs its attack and asserts the behaviour wanted;
// both were `todo` (failing) until review 8 fixed them in core/engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage, type MsgType, type Message } from '../../../app/core/wire.js';
import type { GroupEngine } from '../../../app/core/engine.js';
import { Attacker, drain, groupBytes, honestGroup, tekOf } from './forge.js';

type DataMessage = Extract<Message, { type: typeof MsgType.Data }>;

/** The data packet `author` publishes for one payload, decoded. */
function publishedData(author: GroupEngine, now: number): DataMessage {
  author.send(new TextEncoder().encode('genuine'), now);
  for (const o of drain(author).out) if (o.kind === 'publish' && o.topic === 'data') return decodeMessage(groupBytes, 'data', o.bytes) as DataMessage;
  throw new Error('nothing published');
}

// Fixed in review 8 (data.ts tooOld, D1): a packet whose revision is older than any kept is
// judged from its header alone, so a catch-up server (any member) or a replayer forged them
// for free, each raising an `undecryptable` naming the author and kept as traffic (100 of 100
// before the fix). Now: one undecryptable per author and key version in the grace window, the
// rest refused quietly (`stale`: not kept as traffic, no penalty).
test(
  'review7: forged too-old data packets raise one undecryptable each, without bound',
  () => {
    const g = honestGroup(['a', 'b', 'c']);
    const b = g.e.b!;
    const genuine = publishedData(g.e.a!, g.net.now);
    drain(b);
    // A member serving catch-up to b: 100 packets "from a", revision 0 (too old), each a fresh nonce or the same one.
    for (let i = 0; i < 100; i++) {
      const nonce = Uint8Array.from(genuine.nonce);
      if (i % 2 === 0) nonce[0] = i;
      b.receive(g.ids.a!.key, 'data', encodeMessage(groupBytes, { ...genuine, revision: 0, nonce }), g.net.now + i);
    }
    const events = drain(b).events;
    const undecryptable = events.filter((e) => e.type === 'undecryptable').length;
    const refused = events.filter((e) => e.type === 'rejected').length;
    assert.ok(undecryptable <= 1, `${undecryptable} undecryptable events from 100 forged packets`);
    assert.equal(refused + undecryptable, 100, 'every other one refused (not kept as traffic)');
  },
);

// Fixed in review 8 (T1, docs/protocol.md §8.2): each plant (a refresh on the current TEK whose
// blocklist omits an exclusion) was taken, held every member's outgoing data 2–4 heartbeats until
// one member resealed, and the planter planted again on the reseal's TEK, for ever (4 of 4
// messages held before the fix). A table whose blocklist omits an exclusion its own base TEK
// covers is no honest lag (its maker took that base with its table): refused, unchanged.
test(
  'review7: a member that plants a refresh omitting an exclusion after every reseal holds the group\'s data for good',
  () => {
    const g = honestGroup(['a', 'b', 'm', 'x', 'v']);
    for (const k of Object.keys(g.e)) if (k !== 'v') g.net.offline.add(g.ids[k]!.key);
    const victim = g.e.v!;
    const hb = g.params.heartbeatMs;
    let now = g.net.now;
    const X = new Attacker(g.ids.a!).table({ targets: [g.ids.x!.key], base: tekOf(victim), blocklist: [g.ids.x!.key], recipients: [g.ids.v!.key], createdAt: now });
    victim.receive(g.ids.a!.key, 'unicast', X.unicast, now);
    assert.ok(victim.isBlocked(g.ids.x!.key));
    let held = 0;
    for (let round = 0; round < 4; round++) {
      const plant = new Attacker(g.ids.m!).table({ kind: 'refresh', targets: [], base: tekOf(victim), blocklist: [], recipients: [g.ids.v!.key], createdAt: now + 1 });
      victim.receive(g.ids.m!.key, 'unicast', plant.unicast, now + 1);
      drain(victim);
      victim.send(new Uint8Array([round]), now + 2);
      if (!drain(victim).out.some((o) => o.kind === 'publish' && o.topic === 'data')) held++;
      for (let t = now + 10; t <= now + 6 * hb; t += 10) {
        victim.tick(t);
        drain(victim);
      }
      now += 6 * hb;
    }
    assert.ok(held <= 1, `${held} of 4 messages held by a plant`);
  },
);
