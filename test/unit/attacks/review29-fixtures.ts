// Review 29's fixture: a real GroupRuntime of member b in a group of a, b and m (engines from
// forge.ts honestGroup), and a way to publish an application payload as any of them, sealed
// under the group's current TEK as that member's data packet.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { currentTek, drain, groupBytes, honestGroup, type Id } from './forge.js';
import { GroupRuntime, newGroupRecord } from '../../../app/peer/group.js';
import { Profile } from '../../../app/store/profile.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { offlineHost } from '../solo-runtime.js';
import { advanceRevision, creatorsTag, dataKey } from '../../../app/core/keys.js';
import { MsgType, dataAad, encodeMessage, type Message } from '../../../app/core/wire.js';
import { participantId } from '../../../app/core/params.js';
import type { GroupParams } from '../../../app/core/types.js';
import { fromHex, toHex } from '../../../app/core/bytes.js';
import { encodePayload, signMessage, type AppPayload, type Body, type SignedMessage } from '../../../app/peer/payload.js';

type DataMessage = Extract<Message, { type: typeof MsgType.Data }>;

/** b's runtime in a group of a, b and m (m's identity as given), and a way to publish as any member. */
export function runtimeOfB(ids: Record<string, Id> = {}, opts: { start?: number; params?: GroupParams; ageMs?: number } = {}) {
  const g = honestGroup(['a', 'b', 'm'], { ids, ...(opts.start !== undefined ? { start: opts.start } : {}), ...(opts.params ? { params: opts.params } : {}) });
  // The group lived this long before b's runtime starts (steps of a sixth of a heartbeat, at least 1 s).
  if (opts.ageMs) g.net.run(g.net.now + opts.ageMs, Math.max(1000, Math.floor(g.params.heartbeatMs / 6)));
  const B = g.ids.b!.key;
  g.net.engines.delete(B);
  drain(g.e.b!);
  const profile = Profile.open(mkdtempSync(join(tmpdir(), 'conclave-r29-')));
  const clock = g.net.now;
  /** b's clock (moved by `advance`). */
  const time = { now: clock };
  const logs: string[] = [];
  const rt = new GroupRuntime(offlineHost({ selfKey: B, profile, seed: g.ids.b!.seed, now: () => time.now, name: 'b', log: (l) => logs.push(l) }), newGroupRecord('', 'g', clock), () => g.e.b!, 100);
  rt.drive();
  const seq = new Map<string, number>();
  /** `who` signs `body` as its next message (or as number `s`). */
  const sign = (who: string, body: Body, s?: number): SignedMessage => {
    const id = g.ids[who]!;
    const n = s ?? (seq.get(who) ?? 0) + 1;
    seq.set(who, Math.max(n, seq.get(who) ?? 0));
    return signMessage(toHex(groupBytes), { key: id.key, sign: (x) => nodeCrypto.ed25519Sign(id.seed, x) }, { s: n, k: currentTek(g.e[who]!)!.version, at: time.now, id: randomBytes(16).toString('hex') }, body);
  };
  /**
   * `payload` sealed as `who`'s data packet (its participant ID) under the TEK `insider` holds (default:
   * `who`), at `revision` (default: that TEK's) with `nonce` (default: fresh): an insider's view.
   */
  const seal = (who: string, payload: AppPayload, o: { insider?: string; revision?: number; nonce?: Uint8Array; sentAt?: number } = {}): Uint8Array => {
    const id = g.ids[who]!;
    const t = currentTek(g.e[o.insider ?? who]!)!;
    const revision = o.revision ?? t.revision;
    const h: DataMessage = {
      type: MsgType.Data,
      senderId: Uint8Array.from(participantId(nodeCrypto, fromHex(id.key), g.params.W, g.params.V)),
      tekVersion: t.version,
      tekTag: creatorsTag(nodeCrypto, t.creators),
      revision,
      sentAt: o.sentAt ?? time.now,
      nonce: o.nonce ?? new Uint8Array(randomBytes(24)),
      ciphertext: new Uint8Array(0),
    };
    h.ciphertext = nodeCrypto.seal(dataKey(nodeCrypto, advanceRevision(nodeCrypto, t.key, t.revision, revision)), h.nonce, encodePayload(payload), dataAad(groupBytes, h));
    return encodeMessage(groupBytes, h);
  };
  /** `who` signs `body` and b receives it as a live data packet; returns the message ID. */
  const send = (who: string, body: Body): string => {
    const m = sign(who, body);
    assert.equal(rt.receive(g.ids[who]!.key, 'data', seal(who, { v: 2, t: 'msg', m })), 'accept');
    return m.id;
  };
  const shown = (id: string) => rt.held.message(id);
  /** b reads what the others sent (gossip, and unicasts to b) since the net's log held `from` entries. */
  const readNetSince = (from: number): void => {
    for (const s of g.net.log.slice(from)) {
      if (s.t.kind === 'unicast') {
        if (s.t.to === B) rt.receive(s.from, 'unicast', s.t.bytes);
      } else rt.receive(s.from, s.t.topic, s.t.bytes);
    }
  };
  /** Moves b's clock and lets its engine tick (its housekeeping beat) every 500 ms. */
  const advance = (ms: number) => {
    const end = time.now + ms;
    while (time.now < end) {
      time.now = Math.min(end, time.now + 500);
      rt.engine.tick(time.now);
      rt.drive();
    }
  };
  const done = () => {
    rt.stop();
    profile.close();
  };
  return { g, rt, send, sign, seal, shown, readNetSince, advance, done, logs, clock, time, profile };
}

