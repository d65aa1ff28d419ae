/**
 * Delivery state of one's own messages (issue 18 §7; docs/protocol.md §13.2),
 * over three real peers on loopback: alice's message shows "delivered to 2 of
 * 2" once bob and carol hold it on disk; while carol is stopped a new message
 * reaches only bob ("1 of 2"), and counts carol only once she is back and has
 * it (reconciliation brings it, her receipt reports it).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, history, startTestPeer, until, waitMember, type TestPeer } from './harness.js';

after(cleanup);

interface Shown {
  id: string;
  text: string;
  delivery?: { state: string; delivered: number; members: number };
}

const shown = async (p: TestPeer, group: string, text: string): Promise<Shown | undefined> =>
  (await p.api.call<Shown[]>('chat.history', { group, limit: 100 })).find((m) => m.text === text);

test('delivery: sent, delivered to 2 of 2; a stopped member counts only once it is back and holds the message', { timeout: 240_000 }, async () => {
  const alice = await startTestPeer({ name: 'alice', create: 'receipts' });
  const group = alice.group!;
  const [i1, i2] = await Promise.all([0, 1].map(() => alice.api.call<{ invite: string }>('group.invite', { group, uses: 1 })));
  const bob = await startTestPeer({ name: 'bob', join: i1!.invite });
  const carol = await startTestPeer({ name: 'carol', join: i2!.invite });
  for (const p of [alice, bob, carol]) await waitMember(p, group);
  for (const p of [alice, bob, carol]) {
    await until(`${p.name} to know 3 members`, async () => (await p.api.call<{ state: string }[]>('group.members', { group })).filter((m) => m.state === 'member').length === 3, 60_000);
  }

  const sent = await alice.api.call<Shown>('chat.send', { group, text: 'one' });
  // The reply is built once the message is on disk and published; a fast member's receipt can already be in by then.
  const atSend = sent.delivery;
  assert.ok(atSend, 'an own message carries its delivery state');
  assert.equal(atSend.members, 2);
  if (atSend.delivered === 0) assert.equal(atSend.state, 'sent', 'on disk and published, no receipt yet: sent');
  else assert.equal(atSend.state, 'delivered', 'a receipt that arrived before the reply: delivered');
  const one = await until('"one" delivered to 2', async () => {
    const m = await shown(alice, group, 'one');
    return m?.delivery?.delivered === 2 ? m : undefined;
  }, 60_000);
  assert.deepEqual(one.delivery, { state: 'delivered', delivered: 2, members: 2 });
  for (const p of [bob, carol]) assert.ok((await history(p, group)).some((m) => m.text === 'one'));
  assert.ok(alice.api.events.some((e) => e.method === 'chat.update' && (e.params as unknown as Shown).delivery?.delivered === 2), 'the count reached the client as chat.update');
  assert.equal((await shown(bob, group, 'one'))?.delivery, undefined, "others' messages carry no delivery state");

  // carol stops (cleanly); alice's next message reaches bob only.
  carol.api.close();
  carol.spawned.proc.kill('SIGTERM');
  await carol.spawned.exit;
  await alice.api.call('chat.send', { group, text: 'two' });
  await until('bob to hold "two"', async () => (await history(bob, group)).some((m) => m.text === 'two'), 60_000);
  const two = await until('"two" delivered to 1', async () => {
    const m = await shown(alice, group, 'two');
    return m?.delivery?.delivered === 1 ? m : undefined;
  }, 60_000);
  assert.deepEqual(two.delivery, { state: 'delivered', delivered: 1, members: 2 }, 'a stopped member does not count');

  // carol is back: she gets "two" by reconciliation, then her receipt counts.
  const back = await startTestPeer({ name: 'carol', profile: carol.profile });
  await until('"two" delivered to 2', async () => (await shown(alice, group, 'two'))?.delivery?.delivered === 2, 90_000);
  assert.ok((await history(back, group)).some((m) => m.text === 'two'), 'counted only once she holds it');
  assert.deepEqual((await shown(alice, group, 'one'))?.delivery, { state: 'delivered', delivered: 2, members: 2 }, 'counts never go down');
});
