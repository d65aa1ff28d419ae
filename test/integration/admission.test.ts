/**
 * Admission over real libp2p (seed 001's access control, issue 5 §3), with peers
 * started in this process: a single-use invite admits one newcomer and refuses
 * the next with "used up"; an allowlisted peer ID is admitted anyway; an admitted
 * member can itself invite and admit others, and re-shares the current board
 * with the newcomer it admitted.
 */
import '../../app/net/shim.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPeer, type RunningPeer } from '../../app/peer/peer.js';
import { Profile } from '../../app/store/profile.js';
import { memberKeyOfPeer, peerIdStringOfMemberKey, bytesToHex } from '../../app/net/ids.js';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { until } from './harness.js';

const running: RunningPeer[] = [];
const dirs: string[] = [];
after(async () => {
  for (const p of running) await p.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function peer(name: string, allow: string[] = [], dir?: string): Promise<{ peer: RunningPeer; events: { e: string; p: Record<string, unknown> }[] }> {
  const profile = dir ?? mkdtempSync(join(tmpdir(), 'conclave-adm-'));
  if (!dir) dirs.push(profile);
  const p = await startPeer({ profile, name, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, allow });
  running.push(p);
  const events: { e: string; p: Record<string, unknown> }[] = [];
  p.api.subscribe((e, payload) => events.push({ e, p: payload as Record<string, unknown> }));
  return { peer: p, events };
}

async function state(p: RunningPeer, group: string): Promise<string | undefined> {
  const list = (await p.api.call('group.list', {})) as { group: string; state: string }[];
  return list.find((g) => g.group === group)?.state;
}

test('use limits, allowlisted peer IDs, members admitting members, the board for a newcomer', { timeout: 120_000 }, async () => {
  // The allowlisted identity is fixed in advance: pre-create its profile with a known seed's peer ID.
  const vipDir = mkdtempSync(join(tmpdir(), 'conclave-adm-'));
  dirs.push(vipDir);
  const pre = Profile.open(vipDir);
  const vipSeed = pre.identity('vip').seed;
  pre.close();
  const vipPeerId = peerIdStringOfMemberKey(bytesToHex(nobleCrypto.ed25519PublicKey(vipSeed)))!;

  const host = await peer('host', [vipPeerId]);
  const { group } = (await host.peer.api.call('group.create', { name: 'door' })) as { group: string };
  const { invite } = (await host.peer.api.call('group.invite', { group, uses: 1, ttlSec: 600 })) as { invite: string };

  const first = await peer('first');
  await first.peer.api.call('group.join', { invite });
  await until('first to be admitted', async () => (await state(first.peer, group)) === 'member', 30_000);

  const second = await peer('second');
  await second.peer.api.call('group.join', { invite });
  await until('second to be refused', () => second.events.find((x) => x.e === 'group.joinProgress' && x.p.stage === 'failed'), 30_000);
  const refusal = second.events.find((x) => x.e === 'group.joinProgress' && x.p.stage === 'failed')!;
  assert.match(String(refusal.p.detail), /used up/);
  assert.notEqual(await state(second.peer, group), 'member');

  const vip = await peer('vip', [], vipDir);
  assert.equal(vip.peer.peerId, vipPeerId);
  await vip.peer.api.call('group.join', { invite });
  await until('the allowlisted peer to be admitted with a used-up invite', async () => (await state(vip.peer, group)) === 'member', 30_000);

  // The board as it is now: two pens and an undo of the first.
  const pen = (id: string) => ({ id, color: '#123456', width: 3, tool: 'pen', points: [{ x: 1, y: 1 }, { x: 2, y: 3 }] });
  await host.peer.api.call('board.draw', { group, stroke: pen('p1') });
  await host.peer.api.call('board.draw', { group, stroke: pen('p2') });
  await host.peer.api.call('board.draw', { group, stroke: { id: 'u1', color: '#000000', width: 1, tool: 'undo', points: [], target: 'p1' } });
  const boardIds = async (p: RunningPeer) => ((await p.api.call('board.state', { group })) as { stroke: { id: string } }[]).map((b) => b.stroke.id);
  await until('first to see the board', async () => (await boardIds(first.peer)).join() === 'p2', 30_000);

  // An admitted member invites and admits the next newcomer itself.
  const { invite: fromFirst } = (await first.peer.api.call('group.invite', { group, uses: 1 })) as { invite: string };
  assert.equal(memberKeyOfPeer(first.peer.peerId), first.peer.memberKey);
  const third = await peer('third');
  await third.peer.api.call('group.join', { invite: fromFirst });
  await until('third to be admitted through a member invite', async () => (await state(third.peer, group)) === 'member', 30_000);
  // The newcomer cannot read pre-admission traffic, but its admitter re-shares the current board.
  await until('third to see the current board', async () => (await boardIds(third.peer)).join() === 'p2', 30_000);
  await until('host to list four members', async () => ((await host.peer.api.call('group.members', { group })) as unknown[]).length >= 4, 30_000);
});
