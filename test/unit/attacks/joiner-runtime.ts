// A group of a and b, and the real GroupRuntime of c joining it through a (its contact), over a fresh
// profile: what a joiner keeps and forwards while it has no key (attacks/review32-h1-early-control,
// attacks/review44-joiner-sealed-bytes).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupEngine } from '../../../app/core/engine.js';
import { GroupRuntime, newGroupRecord } from '../../../app/peer/group.js';
import { Profile } from '../../../app/store/profile.js';
import { GROUP, honestGroup, identity } from './forge.js';
import { offlineHost } from '../solo-runtime.js';

/** A group of a and b, and the GroupRuntime of c joining it through a (its contact). */
export function joiner(): { g: ReturnType<typeof honestGroup>; rt: GroupRuntime; profile: Profile; now: number } {
  const g = honestGroup(['a', 'b']);
  const c = identity('c');
  g.gate.allowed.add(c.key);
  const profile = Profile.open(mkdtempSync(join(tmpdir(), 'conclave-r32h1-')));
  const now = g.net.now;
  const rt = new GroupRuntime(
    offlineHost({ selfKey: c.key, profile, seed: c.seed, now: () => now, name: 'c' }),
    newGroupRecord(GROUP, 'g', now),
    (d) => GroupEngine.join(d, c, { group: GROUP, name: 'g', params: g.params, credential: new Uint8Array(), contacts: [g.ids.a!.key], now }),
    100,
  );
  rt.drive();
  return { g, rt, profile, now };
}
