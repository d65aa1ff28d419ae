// Review 45, on review 44's fix (02206ed: a data copy a catch-up server brought is seen by its bytes,
// and moved no revision). A member offline while a newcomer joined, away longer than the grace
// window, came back and read the newcomer-era messages by catch-up (at revision r+1) but stayed at r:
// what it sent next was sealed at a revision the others had erased, `undecryptable` there and
// refused as `stale` when served again, lost for good. A served copy's revision is taken again
// (the nonce it could shadow is what made an insider's served step harmful: seen by bytes now).
// The first tests check the by-bytes replay window both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GROUP, deps, drain, honestGroup, identity } from './forge.js';
import { GroupEngine } from '../../../app/core/engine.js';
import type { EngineEvent } from '../../../app/core/types.js';

const texts = (events: EngineEvent[]): string[] => events.flatMap((e) => (e.type === 'data' ? [new TextDecoder().decode(e.payload)] : []));
const enc = (s: string) => new TextEncoder().encode(s);

function publishedData(e: GroupEngine): Uint8Array {
  const t = drain(e).out.find((x) => x.kind === 'publish' && x.topic === 'data');
  assert.ok(t && t.kind === 'publish', 'a data packet was published');
  return t.bytes;
}

// SAFE CHECK (passes): a genuine packet brought by catch-up first and then arriving live is not
// delivered twice (seenBefore finds the relayed copy's (sender, nonce, sha256(ciphertext)) entry).
test('a genuine packet brought by catch-up and then arriving live is delivered once', () => {
  const g = honestGroup(['a', 'b', 'm'], { start: 1_765_000_000_000 });
  const a = g.e.a!;
  const b = g.e.b!;
  drain(b);
  a.send(enc('hello once'), g.net.now);
  const genuine = publishedData(a);
  // m (honest) serves it to b by reconciliation first ...
  b.receive(g.ids.a!.key, 'data', genuine, g.net.now, g.ids.m!.key);
  const first = texts(drain(b).events);
  assert.deepEqual(first, ['hello once']);
  // ... then the live copy reaches b (same bytes, signed by a on gossipsub).
  b.receive(g.ids.a!.key, 'data', genuine, g.net.now + 10);
  const second = drain(b).events;
  assert.deepEqual(texts(second), [], `delivered twice; second-time events: ${JSON.stringify(second.map((e) => e.type + ('reason' in e ? ':' + e.reason : '')))}`);
});

// 2. Honest-path regression: a member that missed a join (offline past the grace window) learns the
//    new revision no longer from the data catch-up brings it; the first message it sends before a
//    live packet or a holder's heartbeat teaches it is sealed at the erased revision: too old for
//    every other member, and served again by catch-up in the same bytes, it never arrives.
function missedJoin(live: boolean) {
  const g = honestGroup(['a', 'b', 'm'], { start: 1_765_000_000_000 });
  const B = g.ids.b!.key;
  g.net.offline.add(B);
  drain(g.e.b!);
  const before = g.e.b!.tekInfo()!.revision;
  // Newcomer n joins through a while b is away: a and m step the TEK one revision (003 [0070]).
  const n = identity('n45');
  g.gate.allowed.add(n.key);
  g.e.n = g.net.add(n, GroupEngine.join(deps(n.name, { admission: g.gate }), n, { group: GROUP, name: 'g', params: g.params, credential: new Uint8Array(), contacts: [g.ids.a!.key], now: g.net.now }));
  g.net.settle();
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  assert.equal(g.e.n.state(), 'member');
  assert.ok(g.e.a!.tekInfo()!.revision > before, 'a stepped its revision for the newcomer');
  // Past the grace window: a and m have erased the revision b still sends under.
  g.net.run(g.net.now + g.params.graceMs + 10_000, 500);
  const a = g.e.a!;
  const b = g.e.b!;
  // b comes back; its catch-up (m serving) brings a's latest message, at the new revision.
  a.send(enc('news'), g.net.now);
  const news = publishedData(a);
  drain(a);
  if (live) b.receive(g.ids.a!.key, 'data', news, g.net.now);
  else b.receive(g.ids.a!.key, 'data', news, g.net.now, g.ids.m!.key);
  assert.deepEqual(texts(drain(b).events), ['news'], 'b reads the new revision');
  // b answers at once.
  b.send(enc('reply from b'), g.net.now + 100);
  const reply = publishedData(b);
  const bRevisionAtSend = b.tekInfo()!.revision;
  a.receive(B, 'data', reply, g.net.now + 200);
  const ev = drain(a).events;
  // A heartbeat round later b has learnt the revision (the holder's heartbeat); the same bytes,
  // served again by b's (or anyone's) catch-up, are still too old at a: the message never arrives.
  g.net.offline.delete(B);
  g.net.run(g.net.now + 3 * g.params.heartbeatMs);
  drain(a);
  a.receive(B, 'data', reply, g.net.now);
  const again = drain(a).events;
  ev.push(...again);
  return { bRevisionLater: b.tekInfo()!.revision, delivered: texts(ev), events: ev.map((e) => e.type + ('reason' in e ? ':' + e.reason : '')), bRevision: bRevisionAtSend, aRevision: a.tekInfo()!.revision };
}

test('control: a member that learns the new revision from live data is read by the others', () => {
  const r = missedJoin(true);
  assert.deepEqual(r.delivered, ['reply from b']);
});

test('a member that learns the new revision from catch-up data is read by the others', () => {
  const r = missedJoin(false);
  assert.deepEqual(r.delivered, ['reply from b'], `b sent at revision ${r.bRevision} (later ${r.bRevisionLater}), a is at ${r.aRevision}; a got ${JSON.stringify(r.events)}`);
});
