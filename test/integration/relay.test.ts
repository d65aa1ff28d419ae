/**
 * Issue 5 "done when" (relay): a peer that listens ONLY through a `conclave relay`
 * is joined by another through the relay address in its invite, and the two chat
 * past 128 KiB of traffic — the relay server must not apply circuit relay v2's
 * default 128 KiB / 2 min limit.
 */
import '../../app/net/shim.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, history, spawnConclave, startTestPeer, until, waitMember } from './harness.js';
import { parseInvite } from '../../app/peer/invite.js';

after(cleanup);

test('a relay-only peer is joined through the relay and chats past 128 KiB', { timeout: 180_000 }, async () => {
  const relay = spawnConclave(['relay', '--listen', '/ip4/127.0.0.1/tcp/0']);
  const ready = await until('relay ready', () => relay.lines.find((l) => l.event === 'ready'), 30_000);
  const relayAddr = (ready.addresses as string[])[0]!;
  assert.match(relayAddr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);

  const hidden = await startTestPeer({ name: 'hidden', listen: [`${relayAddr}/p2p-circuit`] });
  const { group, invite } = await until('an invite carrying the relay address', async () => {
    const info = await hidden.api.call<{ addresses: string[] }>('net.info');
    if (!info.addresses.some((a) => a.includes('/p2p-circuit'))) return null;
    const created = await hidden.api.call<{ group: string; invite: string }>('group.create', { name: 'behind a relay' });
    return created;
  }, 30_000);
  const addrs = parseInvite(invite, Date.now()).addrs;
  assert.ok(addrs.length > 0 && addrs.every((a) => a.includes('/p2p-circuit')), `invite carries only relay addresses: ${addrs.join(' ')}`);

  const visitor = await startTestPeer({ name: 'visitor', join: invite });
  await waitMember(visitor, group);
  const info = await visitor.api.call<{ connections: { peerId: string; kind: string }[] }>('net.info');
  assert.ok(info.connections.some((c) => c.peerId === hidden.peerId && c.kind === 'relayed'), 'the peers talk through the relay');

  const chunk = 'x'.repeat(8000);
  const texts: string[] = [];
  for (let i = 0; i < 24; i++) {
    const from = i % 2 === 0 ? hidden : visitor;
    const text = `${i} ${chunk}`;
    texts.push(text);
    await from.api.call('chat.send', { group, text });
  }
  assert.ok(texts.reduce((n, t) => n + t.length, 0) > 128 * 1024);
  for (const p of [hidden, visitor]) {
    await until(`${p.name} to receive all ${texts.length} messages`, async () => {
      const h = await history(p, group);
      return texts.every((t) => h.some((m) => m.text === t));
    }, 90_000);
  }
  await visitor.api.call('chat.send', { group, text: 'still flowing after 128 KiB' });
  await until('the last message', async () => (await history(hidden, group)).some((m) => m.text === 'still flowing after 128 KiB'), 30_000);
});
