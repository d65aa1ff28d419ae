// Review 7 (data path, red team; not fixed here: core/engine/data.ts and the peer's catch-up feed
// are other helpers' files). Each `todo` runs its attack and asserts the behaviour wanted: it
// fails today, which node:test reports without failing the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage, type MsgType, type Message } from '../../../app/core/wire.js';
import { drain, groupBytes, honestGroup } from './forge.js';

test(
  'review7: forged too-old data packets raise one undecryptable each, without bound',
  {
    todo:
      "core/engine/data.ts onData: a packet whose revision is older than any kept (too-old) is judged from its header alone, " +
      'so anyone who can hand the engine a data packet under a member\'s name can forge them for free: a catch-up server (any ' +
      'member; catch-up.ts feed passes up to 5000 packets a reply, under whatever sender each frame names, and rounds repeat) ' +
      'or a replayer. Each raises an `undecryptable` event naming the forged author (chat.undecryptable: one feed item each in ' +
      'the renderer), is no rejection (GroupRuntime.receive keeps it as traffic, served on to others and pushing genuine packets ' +
      'out of the bounded store), and since 578783f a replay of the very same packet is not even seen once per grace window. ' +
      'Wanted: too-old input is a quiet rejection (`too-old`, not kept as traffic), and at most one undecryptable per author and ' +
      'TEK version within the grace window.',
  },
  () => {
    const g = honestGroup(['a', 'b', 'c']);
    const b = g.e.b!;
    g.e.a!.send(new TextEncoder().encode('genuine'), g.net.now);
    const out = drain(g.e.a!).out.find((t) => t.kind === 'publish' && t.topic === 'data');
    assert.ok(out && out.kind === 'publish');
    const genuine = decodeMessage(groupBytes, 'data', out.bytes) as Extract<Message, { type: typeof MsgType.Data }>;
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
