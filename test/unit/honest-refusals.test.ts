// The key panel's refusals in an honest group (docs/ui.md "Live log"): every join makes members
// refuse some input — a newcomer what was sealed before its join's revision step, a member the
// heartbeat of a newcomer whose admission has not reached it yet, a copy already taken. Those
// are marked `expected` (peer/key-panel.ts `expectedRefusal`) and read "ignored"; a red
// "refused" line is left for what no honest member sends. Five real peers on loopback, joins
// through two admitters, everyone chatting as it joins.
import '../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningPeer } from '../../app/peer/peer.js';
import { loopbackPeer, until } from './loopback-peers.js';
import type { KeysTable } from '../../app/api/contract.js';

test('an honest group forming and chatting: every refusal at every member is marked expected, none reads "refused"', async (t) => {
  const names = ['alice', 'bob', 'carol', 'dave', 'erin'];
  const peers: RunningPeer[] = [];
  for (const name of names) peers.push(await loopbackPeer(name));
  const [alice, bob] = peers as [RunningPeer, RunningPeer];
  const { group } = (await alice.api.call('group.create', { name: 'honest' })) as { group: string };
  const members = async (i: number) => ((await peers[i]!.api.call('group.members', { group }).catch(() => [])) as { state?: string }[]).length;
  for (let i = 1; i < peers.length; i++) {
    const admitter = i === 3 ? bob : alice; // dave joins through bob
    const { invite } = (await admitter.api.call('group.invite', { group, uses: 1 })) as { invite: string };
    await peers[i]!.api.call('group.join', { invite });
    await until(`${names[i]} sees ${i + 1} members`, async () => (await members(i)) >= i + 1);
    await until(`${names[i]} can send`, async () => peers[i]!.api.call('chat.send', { group, text: `hello from ${names[i]}` }).then(() => true, () => false));
  }
  // Every member hears of every other, and the joins' late copies arrive.
  await until('every member knows all five', async () => (await Promise.all(peers.map((_, i) => members(i)))).every((n) => n === 5));
  await new Promise((r) => setTimeout(r, 3000));

  let refusals = 0;
  const refused: string[] = [];
  for (let i = 0; i < peers.length; i++) {
    const table = (await peers[i]!.api.call('keys.table', { group })) as KeysTable;
    for (const r of table.rejections) refusals += r.count;
    for (const r of table.rejections) if (!r.expected) refused.push(`${names[i]}: ${r.reason} ×${r.count} from ${r.from.slice(0, 8)}: ${r.detail}`);
  }
  t.diagnostic(`${refusals} inputs refused by the five members in all`);
  assert.deepEqual(refused, [], 'a refusal in an honest group is marked as one an honest group makes');
  // The test means something only if the joins made refusals at all (before, each one read "refused").
  assert.ok(refusals > 0, 'the joins made members refuse some input');
});
