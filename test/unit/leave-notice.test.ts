// A member that leaves is shown as having left, once: the rekey that follows a leave blocks the
// leaver like an exclusion does (its keys are replaced, docs/protocol.md §8), and the peer told
// its clients "was removed from the group" right after "left the group" for the same member
// (seen in the browser test of a full disk). A removal is shown only for a member that was
// excluded, not for one that left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loopbackPeer, until } from './loopback-peers.js';

type Listed = { group: string; state: string; members?: number };

test('a leave is told to the members once, as a leave, never also as a removal', { timeout: 120_000 }, async () => {
  const [alice, bob, carol] = [await loopbackPeer('Alice'), await loopbackPeer('Bob'), await loopbackPeer('Carol')];
  const notices: { to: string; peerId: string; change: string }[] = [];
  for (const [name, p] of [['Alice', alice], ['Bob', bob]] as const) {
    p.api.subscribe((e, payload) => {
      if (e === 'group.member') {
        const m = payload as { peerId: string; change: string };
        notices.push({ to: name, peerId: m.peerId, change: m.change });
      }
    });
  }
  const { group, invite } = (await alice.api.call('group.create', { name: 'leave notice' })) as { group: string; invite: string };
  const isMember = (p: typeof alice) => async () => ((await p.api.call('group.list', undefined)) as Listed[]).some((g) => g.group === group && g.state === 'member');
  await bob.api.call('group.join', { invite });
  await until('Bob a member', isMember(bob));
  const { invite: second } = (await alice.api.call('group.invite', { group, uses: 1 })) as { invite: string };
  await carol.api.call('group.join', { invite: second });
  await until('Carol a member', isMember(carol));
  // Dave: a member that Alice excludes, for the notice a removal does get.
  const dave = await loopbackPeer('Dave');
  const { invite: third } = (await alice.api.call('group.invite', { group, uses: 1 })) as { invite: string };
  await dave.api.call('group.join', { invite: third });
  await until('Dave a member', isMember(dave));

  await carol.api.call('group.leave', { group });
  await until('Alice and Bob to hear that Carol left', async () => ['Alice', 'Bob'].every((to) => notices.some((n) => n.to === to && n.peerId === carol.peerId && n.change === 'left')));
  await alice.api.call('group.exclude', { group, peers: [dave.peerId] });
  await until('Bob to hear that Dave was removed', async () => notices.some((n) => n.to === 'Bob' && n.peerId === dave.peerId && n.change === 'excluded'));
  // By now the rekey after Carol's leave has reached both (Dave's exclusion is a later table).
  for (const to of ['Alice', 'Bob']) {
    // The chat's notices only (online and offline are connection events, and a reconnect may send one).
    const aboutCarol = notices.filter((n) => n.to === to && n.peerId === carol.peerId && ['left', 'excluded', 'reinstated'].includes(n.change)).map((n) => n.change);
    assert.deepEqual(aboutCarol, ['left'], `${to} was told of Carol's leave: ${aboutCarol.join(', ')}`);
  }
});
