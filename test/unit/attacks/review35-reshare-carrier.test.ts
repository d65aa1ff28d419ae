// Review 35 (key panel, "ignored, not refused"; insider): `before-admission` means "not-member from
// a sender that is a current member now: its messages came before its admission did". But the
// peer also refuses application items as `not-member` under their *carrier*: a board or file
// re-share item whose author is no member (authorship.ts rule 2) is counted under the member that
// re-shared it (group.ts onData → refuse(from, …)). A current member that re-shares strokes signed
// by keys the roster never listed — an insider pushing strangers' (or sybils') drawings onto a
// newcomer's board — is a current member, so its whole count reads grey: "Ignored from m: sent
// before their admission reached you" (×750 here), though m's admission is old news.
// Caveat, seen with real peers (tmp/review35/honest3.ts): an honest admitter makes the same
// refusal today. It re-shares the strokes of a member excluded before the newcomer came
// (history.ts boardStrokes keeps them), and the newcomer's roster does not list that author:
// "re-shared stroke: author … is not in the roster" ×3 from alice, grey, under the same wrong words.
// So the fix is two-sided: a sharer leaves out items whose author it holds excluded (the newcomer
// refuses them anyway, and its board already differs), and a carrier-attributed `not-member`
// (an item's author, not the sender) is never `before-admission`.
// Secure: an insider's re-share of items by authors the roster never listed reads red.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { runtimeOfB } from './review29-fixtures.js';
import { groupBytes } from './forge.js';
import { signMessage, type SignedMessage } from '../../../app/peer/payload.js';
import { signer } from '../signers.js';
import { toHex } from '../../../app/core/bytes.js';

test('review35: an insider\'s re-share of strangers\' strokes reads as a grey "before admission" line', (t) => {
  const { g, rt, seal, clock, done } = runtimeOfB();
  t.after(done);
  const M = g.ids.m!.key;
  const items: SignedMessage[] = [];
  for (let i = 0; i < 150; i++) {
    const s = signer(50 + (i % 100)); // keys the roster never listed
    items.push(signMessage(toHex(groupBytes), s, { s: i + 1, k: 0, at: clock, id: randomBytes(16).toString('hex') }, { t: 'stroke', stroke: { id: `x${i}`, tool: 'pen', color: '#000000', width: 1, points: [] } }));
  }
  for (let p = 0; p < 5; p++) rt.receive(M, 'data', seal('m', { v: 2, t: 'board', items }));

  // As the peer answers keys.table (api-methods.ts).
  const fromM = rt.rejections.list().filter((r) => r.from === M);
  assert.equal(fromM.reduce((n, r) => n + r.count, 0), 750, 'every stranger\'s stroke was refused');
  const lines = fromM.map((r) => `${r.expected ? `ignored (${r.expected})` : 'REFUSED'}: ${r.reason} ×${r.count}: ${r.detail}`);
  assert.ok(fromM.some((r) => r.expected === undefined), `m's injection reads only grey: ${lines.join('; ')}`);
});
