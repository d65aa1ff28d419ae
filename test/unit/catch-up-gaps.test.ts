/**
 * Reconciliation's gaps (peer/catch-up.ts `afterGapSession`, history.ts `gaps`): what a
 * failed chaos run showed (issue 19's test, a fresh clone, 7 Dec). A fellow member's receipt
 * named numbers of a member excluded meanwhile; this member refuses whatever the excluded
 * member sent, so that gap could never close, and each session after it backed off longer
 * (1, 2, 4, 8 s …). The real gap that followed (82 messages of a member restarted during the
 * burst) was found while a session ran and then waited out the backoff: it closed 14 s after
 * the burst, past the test's 10 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATCHUP_BOUNDS, afterGapSession } from '../../app/peer/catch-up.js';
import { GroupHistory } from '../../app/peer/history.js';
import { Profile } from '../../app/store/profile.js';
import { signMessage } from '../../app/peer/payload.js';
import { signer } from './signers.js';

test('a gap found while a session ran is asked for at once after it, and the backoff starts over', () => {
  const peers = 4;
  let s = { gapTries: 0, backoffMs: CATCHUP_BOUNDS.backoffMinMs as number, again: false };
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    s.gapTries++;
    const next = afterGapSession(s, peers);
    delays.push(next.delayMs);
    s = { ...s, backoffMs: next.backoffMs };
  }
  assert.deepEqual(delays, [100, 100, 100, 100, 1000, 2000, 4000, 8000], 'every member once at once, then backing off');
  s.gapTries++;
  const news = afterGapSession({ ...s, again: true }, peers);
  assert.deepEqual(news, { delayMs: CATCHUP_BOUNDS.gapNextMs, backoffMs: CATCHUP_BOUNDS.backoffMinMs });
});

test("an excluded member's missing numbers are no gap: nothing that could fill them is taken here", async () => {
  const G = '11'.repeat(16);
  const [self, frank, carol] = [signer(1), signer(6), signer(3)];
  const p = Profile.open(mkdtempSync(join(tmpdir(), 'conclave-gaps-')));
  const h = new GroupHistory(p, G, self.key, { emit: () => undefined });
  const blocked = new Set<string>();
  h.unfillable = (key) => blocked.has(key);
  for (const who of [frank, carol]) for (const s of [1, 2]) h.keep(signMessage(G, who, { s, k: 1, at: 1000 + s, id: `${who === frank ? 'f' : 'c'}${s}`.padEnd(32, '0') }, { t: 'chat', text: `m${s}`, name: 'x' }), 'peer', 'X', 2000 + s);
  await h.durable();
  const now = 10_000;
  assert.equal(h.hint(frank.key, 9, now), true, 'a receipt names frank 3..9');
  assert.equal(h.hint(carol.key, 5, now), true);
  assert.deepEqual(h.gaps(64, now).map((g) => g.author).sort(), [carol.key, frank.key].sort());
  blocked.add(frank.key); // excluded: its messages are refused here from now on
  assert.deepEqual(h.gaps(64, now), [{ author: carol.key, missing: [[3, 5]] }], "frank's numbers are no longer a gap");
  assert.equal(h.hint(frank.key, 12, now), false, 'nor does a later receipt make one');
  p.close();
});
