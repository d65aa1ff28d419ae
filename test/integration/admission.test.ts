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
import { PROTOCOL_GROUP, serve } from '../../app/net/unicast.js';
import { noteMdnsFind } from '../../app/net/node.js';
import { PROTOCOL_INVITE } from '../../app/peer/invite-exchange.js';
import { memberProof } from '../../app/peer/invite.js';
import { proofKeyOf } from '../../app/peer/invite-ledger.js';
import { createConclaveNode } from '../../app/net/node.js';
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

/**
 * Issue 15 §2 over real libp2p: a hostile peer on the "LAN" (offered to the
 * newcomer as mDNS would, before the inviter) answers the join handshake with a
 * made-up proof and records every group frame it is sent: the newcomer sends it
 * nothing but a challenge and is admitted by the inviter. Then a revocation made
 * by the inviter reaches a fellow member, which answers a later newcomer with it.
 */
test('join handshake against a hostile LAN peer; a revocation holds group-wide', { timeout: 120_000 }, async () => {
  const host = await peer('host');
  const { group } = (await host.peer.api.call('group.create', { name: 'den' })) as { group: string };
  const { invite, id: first } = (await host.peer.api.call('group.invite', { group, uses: 2, ttlSec: 600 })) as { invite: string; id: string };

  const thief = await peer('thief');
  const heard: { protocol: string; bytes: string }[] = [];
  const listen = async (protocol: string, answer: (frame: Uint8Array) => Uint8Array[] | undefined) => {
    await thief.peer.node.unhandle(protocol);
    await serve(thief.peer.node, protocol, { maxFrameBytes: 1024 * 1024, maxFrames: 1, timeoutMs: 10_000 }, (_remote, frames) => {
      heard.push({ protocol, bytes: Buffer.from(frames[0] ?? []).toString('latin1') });
      return frames[0] ? answer(frames[0]) : undefined;
    });
  };
  await listen(PROTOCOL_INVITE, () => [new TextEncoder().encode(JSON.stringify({ t: 'proof', proof: Buffer.alloc(32, 7).toString('base64url') }))]);
  await listen(PROTOCOL_GROUP, () => undefined);

  const newcomer = await peer('newcomer');
  await newcomer.peer.node.dial(thief.peer.node.getMultiaddrs()[0]!);
  // As mDNS would: the thief is a LAN peer, offered to joins before the inviter.
  noteMdnsFind(newcomer.peer.node, thief.peer.node.peerId);
  newcomer.peer.node.dispatchEvent(new CustomEvent('peer:discovery', { detail: { id: thief.peer.node.peerId, multiaddrs: thief.peer.node.getMultiaddrs() } }));
  await newcomer.peer.api.call('group.join', { invite });
  await until('the newcomer to be admitted by the inviter', async () => (await state(newcomer.peer, group)) === 'member', 30_000);
  assert.ok(heard.some((h) => h.protocol === PROTOCOL_INVITE), 'the thief was challenged');
  assert.deepEqual(heard.filter((h) => h.protocol === PROTOCOL_GROUP), [], 'the thief was sent no join request');
  const secretPart = invite.slice(-20);
  assert.ok(heard.every((h) => !h.bytes.includes(group) && !h.bytes.includes(secretPart)), 'the thief heard neither the group ID nor the invite');

  // The newcomer learnt the group's invites (its ledger) and sees the use counted group-wide.
  await until('the newcomer to know the invite and its use', async () => {
    const list = (await newcomer.peer.api.call('invite.list', { group })) as { id: string; used: number; mine: boolean }[];
    const mine = list.find((x) => x.id === first);
    return mine && mine.used === 1 && !mine.mine;
  }, 30_000);

  // Revoked by the inviter: the newcomer (a member now) learns it; a later joiner that only reaches the newcomer is told so.
  const { invite: second, id } = (await host.peer.api.call('group.invite', { group, uses: 5, ttlSec: 600 })) as { invite: string; id: string };
  await assert.rejects(newcomer.peer.api.call('invite.revoke', { group, id }), /only the member who made an invite/);
  await host.peer.api.call('invite.revoke', { group, id });
  await until('the revocation to reach the other member', async () => {
    const list = (await newcomer.peer.api.call('invite.list', { group })) as { id: string; revoked: boolean }[];
    return list.find((x) => x.id === id)?.revoked;
  }, 30_000);
  await host.peer.stop();
  const late = await peer('late');
  await late.peer.node.dial(newcomer.peer.node.getMultiaddrs()[0]!);
  noteMdnsFind(late.peer.node, newcomer.peer.node.peerId);
  late.peer.node.dispatchEvent(new CustomEvent('peer:discovery', { detail: { id: newcomer.peer.node.peerId, multiaddrs: newcomer.peer.node.getMultiaddrs() } }));
  await late.peer.api.call('group.join', { invite: second });
  await until('the late joiner to be told the invite was revoked', () => late.events.find((x) => x.e === 'group.joinProgress' && x.p.stage === 'failed' && /revoked/.test(String(x.p.detail))), 30_000);
  assert.notEqual(await state(late.peer, group), 'member');
});

test('an excluded member that kept the invite ledger cannot lure a newcomer holding an older invite', { timeout: 120_000 }, async () => {
  const host = await peer('host');
  const { group } = (await host.peer.api.call('group.create', { name: 'den' })) as { group: string };
  const { invite, id } = (await host.peer.api.call('group.invite', { group, uses: 5, ttlSec: 600 })) as { invite: string; id: string };
  const moleDir = mkdtempSync(join(tmpdir(), 'conclave-adm-'));
  dirs.push(moleDir);
  const mole = await peer('mole', [], moleDir);
  await mole.peer.api.call('group.join', { invite });
  await until('the mole to be admitted', async () => (await state(mole.peer, group)) === 'member', 30_000);
  await until('the mole to hold the invite in its ledger', async () => ((await mole.peer.api.call('invite.list', { group })) as { id: string }[]).some((x) => x.id === id), 30_000);

  await host.peer.api.call('group.exclude', { group, peers: [mole.peer.node.peerId.toString()] });
  await until('the mole to be excluded', () => mole.events.find((x) => x.e === 'group.excluded'), 30_000);

  // The mole turns hostile: it answers challenges with the member proof key its ledger held, and listens
  // for join requests (a node of its own under its identity, its peer stopped to read its profile).
  await mole.peer.stop();
  running.splice(running.indexOf(mole.peer), 1);
  const moleProfile = Profile.open(moleDir);
  const moleSeed = moleProfile.identity('mole').seed;
  const proofKey = proofKeyOf(moleProfile.loadGroup(group)!, id);
  moleProfile.close();
  assert.ok(proofKey, 'the mole held the member proof key in its ledger');
  const moleNode = await createConclaveNode({ seed: moleSeed, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  const moleKey = memberKeyOfPeer(moleNode.peerId)!;
  const joinRequests: Uint8Array[] = [];
  await serve(moleNode, PROTOCOL_INVITE, { maxFrameBytes: 4096, maxFrames: 1, timeoutMs: 10_000 }, (remote, frames) => {
    const challenge = JSON.parse(new TextDecoder().decode(frames[0])) as { id: string; nonce: string };
    const proof = memberProof(proofKey, { group, id: challenge.id, joiner: memberKeyOfPeer(remote)!, contact: moleKey, nonce: new Uint8Array(Buffer.from(challenge.nonce, 'base64url')) });
    return [new TextEncoder().encode(JSON.stringify({ t: 'proof', proof: Buffer.from(proof).toString('base64url') }))];
  });
  await serve(moleNode, PROTOCOL_GROUP, { maxFrameBytes: 1024 * 1024, maxFrames: 1, timeoutMs: 10_000 }, (_remote, frames) => {
    if (frames[0]) joinRequests.push(frames[0]);
    return undefined;
  });

  const newcomer = await peer('newcomer');
  await newcomer.peer.node.dial(moleNode.getMultiaddrs()[0]!);
  newcomer.peer.node.dispatchEvent(new CustomEvent('peer:discovery', { detail: { id: moleNode.peerId, multiaddrs: moleNode.getMultiaddrs() } }));
  await newcomer.peer.api.call('group.join', { invite });
  await until('the newcomer to be told the invite was revoked', () => newcomer.events.find((x) => x.e === 'group.joinProgress' && x.p.stage === 'failed' && /revoked/.test(String(x.p.detail))), 30_000);
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(joinRequests.length, 0, 'the excluded member was sent no join request');
  assert.notEqual(await state(newcomer.peer, group), 'member');
  const list = (await host.peer.api.call('invite.list', { group })) as { id: string; revoked: boolean }[];
  assert.ok(list.find((x) => x.id === id)?.revoked, 'the inviter revoked the invite the excluded member knew');
  await moleNode.stop();
});
