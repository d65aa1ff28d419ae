/**
 * A GroupRuntime of one member over a fresh profile (group-send-durable, event-limit,
 * attacks/review7-traffic):
 * the host's clock, client events and log are the caller's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { bytesToHex, peerIdStringOfMemberKey } from '../../app/net/ids.js';
import { GroupEngine } from '../../app/core/engine.js';
import type { EventSink } from '../../app/api/handler.js';
import { Profile } from '../../app/store/profile.js';
import { GroupRuntime, newGroupRecord } from '../../app/peer/group.js';
import { defaultParams } from '../../app/peer/params.js';

/** A GroupRuntime host that sends nothing: its clock, events and log are the caller's. */
export function offlineHost(o: { selfKey: string; profile: Profile; seed: Uint8Array; now: () => number; emit?: EventSink['emit']; log?: (line: string) => void; name?: string }): ConstructorParameters<typeof GroupRuntime>[0] {
  return {
    selfKey: o.selfKey,
    profile: o.profile,
    sign: (message) => nobleCrypto.ed25519Sign(o.seed, message),
    events: { emit: o.emit ?? (() => undefined) },
    now: o.now,
    displayName: () => o.name ?? 'me',
    publish: () => {},
    unicast: () => {},
    peerIdOf: (k) => peerIdStringOfMemberKey(k) ?? k,
    allowlisted: () => false,
    onMember: () => {},
    log: o.log ?? (() => {}),
  };
}

export function soloRuntime(host: { now: () => number; emit: EventSink['emit']; log?: (line: string) => void }): { rt: GroupRuntime; key: string; sign: (message: Uint8Array) => Uint8Array; done: () => void } {
  const seed = new Uint8Array(randomBytes(32));
  const key = bytesToHex(nobleCrypto.ed25519PublicKey(seed));
  const dir = mkdtempSync(join(tmpdir(), 'conclave-solo-'));
  const profile = Profile.open(dir);
  const now = host.now();
  const rt = new GroupRuntime(
    offlineHost({ selfKey: key, profile, seed, now: host.now, emit: host.emit, log: host.log }),
    newGroupRecord('', 'solo', now),
    (deps) => GroupEngine.create(deps, { seed, name: 'me' }, { name: 'solo', params: defaultParams({ exclude: 'any-member' }), now }),
    100,
  );
  rt.drive();
  return {
    rt,
    key,
    sign: (message) => nobleCrypto.ed25519Sign(seed, message),
    done: () => {
      rt.stop();
      profile.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
