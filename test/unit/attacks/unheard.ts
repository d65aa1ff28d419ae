/**
 * A fixture for data packets under a key a member does not hold yet (engine-pending-data,
 * attacks/review7-replay): an exclusion the member has not heard of.
 */
import assert from 'node:assert/strict';
import type { GroupEngine } from '../../../app/core/engine.js';
import type { MemberKey } from '../../../app/core/types.js';
import { drain, honestGroup, type Group } from './forge.js';

/**
 * An exclusion of `x` that `b` has not heard of: every other member holds the new TEK
 * and sent `perSender` packets under it, which `b` has not received either.
 * Returns the packets (in sending order) and the exclusion's control publications.
 */
export function unheardExclusion(names: string[], senders: string[], perSender: number): { g: Group; b: GroupEngine; packets: { from: MemberKey; bytes: Uint8Array; text: string }[]; control: { from: MemberKey; bytes: Uint8Array }[] } {
  const g = honestGroup([...names, 'x']);
  const b = g.e.b!;
  g.net.engines.delete(g.ids.x!.key);
  g.net.offline.add(g.ids.b!.key);
  const mark = g.net.log.length;
  g.e.a!.exclude([g.ids.x!.key], g.net.now);
  g.net.run(g.net.now + 5 * g.params.heartbeatMs);
  for (const n of senders) assert.notEqual(g.e[n]!.tekInfo()!.version, b.tekInfo()!.version, `${n} holds the new TEK`);
  for (const n of senders) for (let i = 0; i < perSender; i++) g.e[n]!.send(new TextEncoder().encode(`${n}:${i}`), g.net.now);
  g.net.settle();
  const packets: { from: MemberKey; bytes: Uint8Array; text: string }[] = [];
  const control: { from: MemberKey; bytes: Uint8Array }[] = [];
  const byKey = new Map(senders.map((n) => [g.ids[n]!.key, n]));
  const count = new Map<string, number>();
  for (const s of g.net.log.slice(mark)) {
    if (s.t.kind !== 'publish') continue;
    if (s.t.topic === 'control') control.push({ from: s.from, bytes: s.t.bytes });
    else if (s.t.topic === 'data' && byKey.has(s.from)) {
      const n = byKey.get(s.from)!;
      const i = count.get(n) ?? 0;
      count.set(n, i + 1);
      packets.push({ from: s.from, bytes: s.t.bytes, text: `${n}:${i}` });
    }
  }
  assert.equal(packets.length, senders.length * perSender);
  drain(b);
  return { g, b, packets, control };
}

