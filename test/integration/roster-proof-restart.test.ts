/**
 * Review 39 (HIGH): a restart split the roster for good. bob is offline while alice admits carol;
 * alice and carol are then killed with SIGKILL and restarted; bob comes back. The proofs roster
 * catch-up shows a member that missed an admission (core/engine/roster-sync.ts) were kept in memory
 * only, so nobody could prove carol's admission to bob any more: bob refused carol's heartbeats and
 * messages as `not-member`, and carol's acknowledged chat message never reached him. The proofs are
 * saved with the engine's state now; and carol's message, refused while bob did not know her, is
 * reconciled once he does (its packet is not remembered as seen: core/engine/data.ts).
 *
 * Real peers on loopback, each on a port of its own kept across its restart (saved addresses of
 * fellow members are how restarted peers find each other without mDNS or a relay).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { cleanup, startTestPeer, until, waitMember, history, type TestPeer } from './harness.js';

after(cleanup);

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(port));
    });
    srv.on('error', reject);
  });
}

const kill9 = async (p: TestPeer): Promise<void> => {
  p.spawned.proc.kill('SIGKILL');
  await p.spawned.exit;
};

test('a member offline during an admission learns the newcomer after the admitter and the newcomer restarted', { timeout: 300_000 }, async () => {
  const ports = [await freePort(), await freePort(), await freePort()];
  const listen = (i: number) => [`/ip4/127.0.0.1/tcp/${ports[i]}`];
  const alice = await startTestPeer({ name: 'alice', create: 'r39', listen: listen(0) });
  const group = alice.group!;
  const invite = async () => (await alice.api.call<{ invite: string }>('group.invite', { group, uses: 1 })).invite;
  const bob = await startTestPeer({ name: 'bob', join: await invite(), listen: listen(1) });
  await waitMember(bob, group);
  await kill9(bob); // offline while carol is admitted
  const carol = await startTestPeer({ name: 'carol', join: await invite(), listen: listen(2) });
  await waitMember(carol, group);
  await until('alice to list carol', async () => (await alice.api.call<{ peerId: string; state: string }[]>('group.members', { group })).some((m) => m.peerId === carol.peerId && m.state === 'member'));
  await kill9(alice);
  await kill9(carol);
  await startTestPeer({ name: 'alice', profile: alice.profile, listen: listen(0) });
  const carol2 = await startTestPeer({ name: 'carol', profile: carol.profile, listen: listen(2) });
  const bob2 = await startTestPeer({ name: 'bob', profile: bob.profile, listen: listen(1) });
  await carol2.api.call('chat.send', { group, text: 'acked-from-carol' });
  const seen = await until(
    'bob to list carol and hold her message',
    async () => {
      const members = await bob2.api.call<{ peerId: string; state: string }[]>('group.members', { group });
      const msgs = await history(bob2, group);
      return members.some((m) => m.peerId === carol.peerId && m.state === 'member') && msgs.some((m) => m.text === 'acked-from-carol');
    },
    120_000,
    500,
  ).then(
    () => true,
    () => false,
  );
  const members = await bob2.api.call<{ peerId: string; state: string }[]>('group.members', { group });
  const table = await bob2.api.call<{ rejections: { reason: string; count: number }[] }>('keys.table', { group });
  const lists = members.some((m) => m.peerId === carol.peerId && m.state === 'member');
  assert.ok(seen, `bob ${lists ? 'lists carol but lacks her message' : 'never learnt carol'}; he refused ${JSON.stringify(table.rejections.map((r) => `${r.reason} x${r.count}`))}`);
});
