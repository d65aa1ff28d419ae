// Shared by the admin-race attack tests (reviews 19, 20): does a member hand its current TEK
// to a key that asks for it? The property every reinstatement attack is judged by.
import { drain, groupBytes, tekOf, unicastsTo, type Attacker } from './forge.js';
import { toHex } from '../../../app/core/bytes.js';
import { MsgType, decodeMessage } from '../../../app/core/wire.js';
import type { GroupEngine } from '../../../app/core/engine.js';
import type { MemberKey } from '../../../app/core/types.js';

/** What `victim` hands `asker` for a FetchRequest of its current TEK: the key bytes if they open for the asker. */
export function fetchTekAs(victim: GroupEngine, victimKey: MemberKey, asker: Attacker, now: number): Uint8Array | null {
  const t = tekOf(victim);
  drain(victim);
  victim.receive(asker.key, 'unicast', asker.fetchRequest(0, t.version, t.creators), now);
  for (const u of unicastsTo(drain(victim).out, asker.key, MsgType.FetchReply)) {
    const m = decodeMessage(groupBytes, 'unicast', u);
    if (m.type === MsgType.FetchReply && m.key) return asker.openFrom(victimKey, 'fetch', m.key);
  }
  return null;
}

/** The current TEK's key bytes (hex) as this engine holds them. */
export function tekKeyOf(e: GroupEngine): string[] {
  const t = e.tekInfo()!;
  return e.exportKeyMaterial().filter((k) => k.slot === 0 && k.version === t.version).map((k) => toHex(k.key));
}
