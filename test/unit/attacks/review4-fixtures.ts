// Shared by the review 4 attack tests: a group ID, deterministic signers, a fresh history.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupHistory } from '../../../app/peer/history.js';
import { signMessage, type Body, type SignedMessage } from '../../../app/peer/payload.js';
import { Profile } from '../../../app/store/profile.js';

export const G = '11'.repeat(16);

import { type Signer } from '../signers.js';
export { signer, type Signer } from '../signers.js';

/** A history of group G kept by `self` in a fresh profile (its folder: `dir`). */
export function freshHistory(self: string, prefix: string): { dir: string; profile: Profile; history: GroupHistory } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const profile = Profile.open(dir);
  return { dir, profile, history: new GroupHistory(profile, G, self, { emit: () => undefined }) };
}

/** Signs under one counter shared by every author (number, time and ID all follow it), TEK version 1. */
export function counterSigner(): (who: Signer, body: Body) => SignedMessage {
  let n = 0;
  return (who, body) => {
    n++;
    return signMessage(G, who, { s: n, k: 1, at: 1000 + n, id: n.toString(16).padStart(32, '0') }, body);
  };
}
