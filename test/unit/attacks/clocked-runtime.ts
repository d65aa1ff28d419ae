// runtimeOfB (test/unit/attacks/review29-fixtures.ts) with a clock the test moves (`advance`), and
// sealing at any revision / nonce of the TEK (an insider's view).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { currentTek, drain, groupBytes, honestGroup } from './forge.js';
import { GroupRuntime, newGroupRecord } from '../../../app/peer/group.js';
import { Profile } from '../../../app/store/profile.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { offlineHost } from '../solo-runtime.js';
import { advanceRevision, creatorsTag, dataKey } from '../../../app/core/keys.js';
import { MsgType, dataAad, encodeMessage, type Message } from '../../../app/core/wire.js';
import { participantId } from '../../../app/core/params.js';
import { fromHex, toHex } from '../../../app/core/bytes.js';
import { encodePayload, signMessage, type AppPayload, type Body, type SignedMessage } from '../../../app/peer/payload.js';

export type DataMessage = Extract<Message, { type: typeof MsgType.Data }>;

export function clockedRuntimeOfB(opts: { ageMs?: number } = {}) {
  const g = honestGroup(['a', 'b', 'm'], { start: 1_765_000_000_000 });
  if (opts.ageMs) g.net.run(g.net.now + opts.ageMs, 500);
  const B = g.ids.b!.key;
  g.net.engines.delete(B);
  drain(g.e.b!);
  const profile = Profile.open(mkdtempSync(join(tmpdir(), 'conclave-r44a-')));
  const time = { now: g.net.now };
  const logs: string[] = [];
  const rt = new GroupRuntime(offlineHost({ selfKey: B, profile, seed: g.ids.b!.seed, now: () => time.now, name: 'b', log: (l) => logs.push(l) }), newGroupRecord('', 'g', time.now), () => g.e.b!, 100);
  rt.drive();
  const seq = new Map<string, number>();
  const sign = (who: string, body: Body, s?: number): SignedMessage => {
    const id = g.ids[who]!;
    const n = s ?? (seq.get(who) ?? 0) + 1;
    seq.set(who, Math.max(n, seq.get(who) ?? 0));
    return signMessage(toHex(groupBytes), { key: id.key, sign: (x) => nodeCrypto.ed25519Sign(id.seed, x) }, { s: n, k: currentTek(g.e[who]!)!.version, at: time.now, id: randomBytes(16).toString('hex') }, body);
  };
  /** `payload` sealed under the TEK `insider` holds, with `who`'s participant ID, at `revision` (default: current) and `nonce` (default: fresh). */
  const seal = (who: string, payload: AppPayload, o: { insider?: string; revision?: number; nonce?: Uint8Array; sentAt?: number } = {}): Uint8Array => {
    const id = g.ids[who]!;
    const t = currentTek(g.e[o.insider ?? who]!)!;
    const revision = o.revision ?? t.revision;
    const key = advanceRevision(nodeCrypto, t.key, t.revision, revision);
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
    h.ciphertext = nodeCrypto.seal(dataKey(nodeCrypto, key), h.nonce, encodePayload(payload), dataAad(groupBytes, h));
    return encodeMessage(groupBytes, h);
  };
  const send = (who: string, body: Body): string => {
    const m = sign(who, body);
    assert.equal(rt.receive(g.ids[who]!.key, 'data', seal(who, { v: 2, t: 'msg', m })), 'accept');
    return m.id;
  };
  /** Moves the clock and lets b's engine tick (its housekeeping beat). */
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
  return { g, rt, sign, seal, send, advance, done, logs, time, profile };
}
