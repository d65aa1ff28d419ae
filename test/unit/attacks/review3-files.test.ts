// Review 3 (files, app/peer/history.ts fileBodies + app/peer/files.ts transfers): a file is
// named by its `fid` alone, first message wins. A member that re-sends another member's fid
// with its own key, hashes and content makes every peer that keeps its message first (a
// member catching up from it, a member after a restart that replays it first) fetch and show
// the attacker's content on the victim's signed file card (and the victim's under its own).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signMessage, type Body, type SignedMessage } from '../../../app/peer/payload.js';
import { GroupHistory } from '../../../app/peer/history.js';
import { Profile } from '../../../app/store/profile.js';
import { signer } from '../signers.js';

const G = '11'.repeat(16);
const alice = signer(1); // the one keeping both
const bob = signer(2); // the victim
const mallory = signer(3); // a member
const seqs = new Map<string, number>();
let idn = 0;
const sign = (who: ReturnType<typeof signer>, body: Body): SignedMessage => {
  const s = (seqs.get(who.key) ?? 0) + 1;
  seqs.set(who.key, s);
  return signMessage(G, who, { s, k: 1, at: 1000, id: (++idn).toString(16).padStart(32, '0') }, body);
};
const FID = 'f1'.repeat(16);
const file = (name: string, keyByte: string, hashByte: number): Body => ({
  t: 'file',
  fid: FID,
  name,
  size: 10,
  mime: 'application/pdf',
  sha256: keyByte.repeat(64),
  key: keyByte.repeat(64),
  chunk: 256 * 1024,
  count: 1,
  hashes: Buffer.alloc(32, hashByte).toString('base64'),
});

test("review3: a member cannot take over another member's file ID (the body behind bob's card is bob's, in either order)", () => {
  const profile = Profile.open(mkdtempSync(join(tmpdir(), 'conclave-r3-files-')));
  const history = new GroupHistory(profile, G, alice.key, { emit: () => undefined });
  const offered: { fid: string; author: string }[] = [];
  history.onFile = (body, author) => void offered.push({ fid: body.fid, author });
  const bobs = sign(bob, file('report.pdf', 'b', 0xbb));
  const mallorys = sign(mallory, file('report.pdf', 'd', 0xdd));
  // Mallory serves catch-up: her copy first, bob's after.
  history.keep(mallorys, 'peer-mallory', 'Mallory', 5);
  history.keep(bobs, 'peer-bob', 'Bob', 6);
  const bobCard = history.message(bobs.id);
  assert.ok(bobCard?.file, "bob's file card is shown");
  const behind = history.files().filter((f) => f.body.fid === bobCard.file!.id);
  assert.deepEqual(
    behind.map((f) => f.author),
    [bob.key],
    "the content fetched and shown for bob's card must be bob's (its key and signed hashes), not whoever used the fid first",
  );
  profile.close();
});
