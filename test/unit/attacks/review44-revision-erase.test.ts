// Review 44a: a revision step learnt from a DATA packet (tek-records.ts decryptData →
// recordTek(core, tek, -1)) records the superseded revision with `until = 0 + graceMs`: an
// absolute time in January 1970. On a real clock the next housekeeping beat (half a heartbeat)
// erases it, instead of a grace window later (003 [0071], docs/protocol.md §6 "keeps superseded
// versions and revisions for graceMs"). The unit tests start their clocks at 0, where 0 + graceMs
// happens to be right. So any insider (it holds the TEK) publishing one packet at revision r+1, or
// an honest join whose first data packet overtakes its Revision announcement, makes every packet
// at revision r that a member has not opened yet (in flight, or missing and brought later by
// catch-up) unreadable for good: `undecryptable`, never delivered. Asserts the SECURE outcome.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { currentTek, drain, groupBytes, honestGroup, type Group } from './forge.js';
import { advanceRevision, dataKey } from '../../../app/core/keys.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import type { MsgType} from '../../../app/core/wire.js';
import { dataAad, decodeMessage, encodeMessage, type Message } from '../../../app/core/wire.js';
import type { EngineEvent } from '../../../app/core/types.js';

type DataMessage = Extract<Message, { type: typeof MsgType.Data }>;
const texts = (events: EngineEvent[]): string[] => events.flatMap((e) => (e.type === 'data' ? [new TextDecoder().decode(e.payload)] : []));

function scenario(start: number, step = true): { delivered: string[]; events: EngineEvent[] } {
  const g: Group = honestGroup(['a', 'b', 'm'], { start });
  // The group has lived past the grace window since its last join (its revision step's old keys are erased).
  g.net.run(g.net.now + g.params.graceMs + 5000, 500);
  const a = g.e.a!;
  const b = g.e.b!;
  // A's packet at revision r, which b has not received yet (b was briefly cut off).
  a.send(new TextEncoder().encode('acknowledged'), g.net.now);
  const genuine = drain(a).out.find((t) => t.kind === 'publish' && t.topic === 'data')!;
  assert.ok(genuine && genuine.kind === 'publish');
  // Insider m publishes one packet at revision r+1 (it holds the TEK; "a join happened", 003 [0070]).
  const t = currentTek(g.e.m!)!;
  const stepped = advanceRevision(nodeCrypto, t.key, t.revision, t.revision + 1);
    const mId = decodeMessage(groupBytes, 'data', drainSend(g, 'm')) as DataMessage;
  const forged: DataMessage = { ...mId, revision: t.revision + 1, nonce: new Uint8Array(24).fill(5), ciphertext: new Uint8Array(0) };
  forged.ciphertext = nodeCrypto.seal(dataKey(nodeCrypto, stepped), forged.nonce, new TextEncoder().encode('step'), dataAad(groupBytes, forged));
  if (step) {
    b.receive(g.ids.m!.key, 'data', encodeMessage(groupBytes, forged), g.net.now);
    assert.deepEqual(texts(drain(b).events), ['step'], 'b adopts revision r+1');
  }
  // One housekeeping beat later (well inside the grace window), A's packet at r reaches b (catch-up).
  b.tick(g.net.now + g.params.heartbeatMs);
  drain(b);
  b.receive(g.ids.a!.key, 'data', genuine.bytes, g.net.now + g.params.heartbeatMs + 10);
  const events = drain(b).events;
  return { delivered: texts(events), events };
}

/** m's own data packet (for its header: sender ID, TEK tag). */
function drainSend(g: Group, who: string): Uint8Array {
  g.e[who]!.send(new TextEncoder().encode('x'), g.net.now);
  const out = drain(g.e[who]!).out.find((t) => t.kind === 'publish' && t.topic === 'data')!;
  assert.ok(out.kind === 'publish');
  return out.bytes;
}

test('control: without the step, the same packet one beat later opens', () => {
  assert.deepEqual(scenario(1_765_000_000_000, false).delivered, ['acknowledged']);
});

test('on a real clock, a packet at the superseded revision still opens within the grace window', () => {
  const r = scenario(1_765_000_000_000);
  assert.deepEqual(r.delivered, ['acknowledged'], `A's packet at revision r is lost: ${JSON.stringify(r.events.map((e) => e.type + ('reason' in e ? ':' + e.reason : '')))}`);
});
