// Review 32 pass 2 (efabd68): an edit or delete now refreshes only its target's newest 64 replies
// (REPLIES_REFRESHED, by arrival). The renderer shows a reply's quote from the view the peer sent
// (MessageRow.tsx ReplyQuote: quote.excerpt), so an older reply keeps the quote it was sent with.
// An insider who posts 64 replies to Alice's message pushes Bob's earlier reply out of the window:
// when Alice deletes the message (she pasted a secret), every open client keeps showing the deleted
// text in Bob's reply's quote; nothing tells the UI otherwise until the history is listed again.
// A delete happens once per message (its cost is bounded by the replies, paid once), so it need not
// share the edit's cap. Secure: after the parent's delete, Bob's reply's last update has no excerpt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupHistory } from '../../../app/peer/history.js';
import { Profile } from '../../../app/store/profile.js';
import { counterSigner, G, signer } from './review4-fixtures.js';
import type { ChatMessage } from '../../../app/api/contract.js';

test('review32-pass2: a deleted parent\'s text leaves every reply\'s quote on clients, however many replies came after', async (t) => {
  const profile = Profile.open(mkdtempSync(join(tmpdir(), 'conclave-r32p2-quote-')));
  t.after(() => profile.close());
  const shown = new Map<string, ChatMessage>();
  const events = { emit: (name: string, m: ChatMessage) => void ((name === 'chat.message' || name === 'chat.update') && shown.set(m.id, m)) };
  const history = new GroupHistory(profile, G, signer(1).key, events as never);
  const alice = signer(2);
  const bob = signer(3);
  const mallory = signer(7);
  const sign = counterSigner();
  const secret = sign(alice, { t: 'chat', text: 'the wifi password is hunter2', name: 'alice' });
  history.keep(secret, 'peer-a', 'alice', 1);
  const bobReply = sign(bob, { t: 'chat', text: 'thanks!', name: 'bob', re: secret.id });
  history.keep(bobReply, 'peer-b', 'bob', 2);
  for (let i = 0; i < 64; i++) history.keep(sign(mallory, { t: 'chat', text: `+1 ${i}`, name: 'm', re: secret.id }), 'peer-m', 'm', 3);
  await history.durable();
  assert.match(shown.get(bobReply.id)?.replyTo?.excerpt ?? '', /hunter2/);
  history.keep(sign(alice, { t: 'delete', target: secret.id }), 'peer-a', 'alice', 4);
  await history.durable();
  assert.equal(history.message(secret.id)?.deleted, true, 'the delete took effect');
  assert.equal(history.message(bobReply.id)?.replyTo?.excerpt, undefined, 'a fresh listing drops the excerpt');
  const onClients = shown.get(bobReply.id)?.replyTo;
  assert.ok(
    onClients?.deleted === true && !onClients.excerpt,
    `clients still show Bob's reply quoting the deleted message: ${JSON.stringify(onClients)}`,
  );
});
