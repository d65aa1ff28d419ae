/**
 * A member a client was told of survives a kill -9 (peer/group.ts, peer/state-file.ts:
 * a roster change is written before anything can show it). Found by the chaos test
 * (reconcile.test.ts): erin learnt three members moments before the burst, was killed
 * 150 ms into it, came back with the roster of her previous save and refused every
 * message of theirs as "not in the roster"; roster catch-up could not help, as the
 * admission proofs of restarted members were kept in memory only (saved with the engine's
 * state since review 39: test/integration/roster-proof-restart.test.ts).
 *
 * Real peers: alice creates, bob joins, then carol joins. The moment bob's client
 * hears that carol joined, bob is killed with SIGKILL; alice and carol are killed too,
 * so nothing can teach bob again. Bob restarted alone must list carol as a member.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, startTestPeer, until, waitMember } from './harness.js';

after(cleanup);

test('a member the client was told of is still a member after a kill -9 and a restart with no one to ask', { timeout: 180_000 }, async () => {
  const alice = await startTestPeer({ name: 'alice', create: 'roster' });
  const group = alice.group!;
  const inviteFor = async () => (await alice.api.call<{ invite: string }>('group.invite', { group, uses: 1 })).invite;
  const bob = await startTestPeer({ name: 'bob', join: await inviteFor() });
  await waitMember(bob, group);
  const carol = await startTestPeer({ name: 'carol', join: await inviteFor() });

  // Watch bob's notifications closely: kill -9 within a few ms of the one saying carol joined.
  const joined = () => bob.api.events.some((e) => e.method === 'group.member' && e.params.group === group && e.params.peerId === carol.peerId && e.params.change === 'joined');
  await until('bob to be told carol joined', joined, 120_000, 2).catch(async (err: Error) => {
    const known = await bob.api.call<{ peerId: string; state: string }[]>('group.members', { group });
    throw new Error(`${err.message}; bob's members ${JSON.stringify(known)}; bob's events: ${JSON.stringify(bob.api.events.filter((e) => e.method.startsWith('group')))}; carol ${carol.peerId}`);
  });
  bob.spawned.proc.kill('SIGKILL');
  alice.spawned.proc.kill('SIGKILL');
  carol.spawned.proc.kill('SIGKILL');
  await Promise.all([bob.spawned.exit, alice.spawned.exit, carol.spawned.exit]);

  const back = await startTestPeer({ name: 'bob', profile: bob.profile });
  const members = await back.api.call<{ peerId: string; state: string }[]>('group.members', { group });
  const states = Object.fromEntries(members.map((m) => [m.peerId === carol.peerId ? 'carol' : m.peerId === alice.peerId ? 'alice' : m.peerId === bob.peerId ? 'bob' : m.peerId, m.state]));
  assert.deepEqual(states, { alice: 'member', bob: 'member', carol: 'member' }, 'the roster bob\'s client was shown');
});
