// Review 44a (the review-42 class, on the fetch budget): the buffer share of data a catch-up server
// brings is now the server's (commit b60a572), but the tag-only fetch the packet's header starts is
// still the NAMED AUTHOR's (data.ts onData → scheduleFetchByTag(core, …, from, …); context.ts
// mayFetchByTag: one unresolved per member, then TAG_FETCH_REST_ROUNDS rounds of rest). So one junk
// packet under a made-up TEK, served in honest A's name, uses A's one tag-only fetch (asked of A,
// which never made that key) and then rests it for 10 fetch rounds: A's own packet under a key b
// really lacks starts no fetch meanwhile. Asserts the SECURE outcome (fails on current code).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { currentTek, drain, groupBytes, honestGroup } from './forge.js';
import type { MsgType} from '../../../app/core/wire.js';
import { decodeMessage, encodeMessage, type Message } from '../../../app/core/wire.js';

type DataMessage = Extract<Message, { type: typeof MsgType.Data }>;

function run(withJunk: boolean): string[] {
  const g = honestGroup(['a', 'b', 'm']);
  const A = g.ids.a!.key;
  const M = g.ids.m!.key;
  const b = g.e.b! as unknown as { core: { fetches: Map<string, unknown>; tagFetches: Map<string, unknown> } };
  g.e.a!.send(new TextEncoder().encode('x'), g.net.now);
  const out = drain(g.e.a!).out.find((t) => t.kind === 'publish' && t.topic === 'data')!;
  assert.ok(out.kind === 'publish');
  const h = decodeMessage(groupBytes, 'data', out.bytes) as DataMessage;
  const v = currentTek(g.e.b!)!.version;
  // M's reply: a packet "by A" under a TEK version b lacks, with a made-up creators tag.
  const junk = encodeMessage(groupBytes, { ...h, tekVersion: v + 1, tekTag: new Uint8Array(h.tekTag.length).fill(9), nonce: new Uint8Array(24).fill(1) });
  if (withJunk) g.e.b!.receive(A, 'data', junk, g.net.now, M);
  drain(g.e.b!);
  // A's real packet, live, under a TEK b really lacks (another tag): b should fetch it (from A first).
  const real = encodeMessage(groupBytes, { ...h, tekVersion: v + 1, tekTag: new Uint8Array(h.tekTag.length).fill(3), nonce: new Uint8Array(24).fill(2) });
  g.e.b!.receive(A, 'data', real, g.net.now + 10);
  drain(g.e.b!);
  const ids = [...b.core.fetches.keys()];
  return ids.filter((id) => id.endsWith('03'.repeat(h.tekTag.length)));
}

test('control: without the junk, A\'s real packet under a key b lacks starts a fetch', () => {
  assert.equal(run(false).length, 1);
});

test("a catch-up server's junk in A's name does not use up A's tag-only fetch", () => {
  assert.equal(run(true).length, 1, "A's real packet started a fetch");
});
