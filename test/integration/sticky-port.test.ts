/**
 * Review 39 (written down then): a peer started with the default listen address took a new random
 * port at every start, so the addresses its fellow members had saved for it were stale after a
 * restart. When every member of a group restarted, with no mDNS and no relay, nobody found anybody
 * and the group stayed apart for good. Now the default listen address keeps the port the profile
 * used last (app/peer/peer.ts `nodeOnStickyPort`), and takes a new one only when that is taken.
 *
 * Real peers; they listen on every IPv4 interface (the default under test) but dial only addresses
 * of this machine (the ones their fellow members announced).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, startTestPeer, until, waitMember, history, type TestPeer } from './harness.js';

after(cleanup);

const kill9 = async (p: TestPeer): Promise<void> => {
  p.spawned.proc.kill('SIGKILL');
  await p.spawned.exit;
};

test('a group whose members all restarted, with no mDNS and no relay, finds itself again', { timeout: 240_000 }, async () => {
  const alice = await startTestPeer({ name: 'alice', create: 'sticky', listen: null });
  const group = alice.group!;
  const { invite } = await alice.api.call<{ invite: string }>('group.invite', { group, uses: 1 });
  const bob = await startTestPeer({ name: 'bob', join: invite, listen: null });
  await waitMember(bob, group);
  await alice.api.call('chat.send', { group, text: 'before' });
  await until('bob to hold the first message', async () => (await history(bob, group)).some((m) => m.text === 'before'), 30_000);
  // Both go down at once (a power cut), then come back one after the other.
  await kill9(alice);
  await kill9(bob);
  const alice2 = await startTestPeer({ name: 'alice', profile: alice.profile, listen: null });
  const bob2 = await startTestPeer({ name: 'bob', profile: bob.profile, listen: null });
  await alice2.api.call('chat.send', { group, text: 'after both restarted' });
  const got = await until('bob to hold the message sent after the restarts', async () => (await history(bob2, group)).some((m) => m.text === 'after both restarted'), 60_000, 500).then(
    () => true,
    () => false,
  );
  assert.ok(got, 'bob never received alice\'s message: the restarted peers did not find each other');
});
