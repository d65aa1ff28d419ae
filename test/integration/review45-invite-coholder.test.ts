/**
 * Review 45 (HIGH): anyone holding a multi-use invite link (never a member, the invite never revoked)
 * passed the join handshake's proof of membership for every other holder of the same link, and
 * admitted it into a group it made up under the real group's ID. The member proof key was derived
 * from the link's secret (v2 tickets), which every holder of the link has: the handshake proved
 * knowledge of the link, not membership. Mallory, a second recipient of a `uses: 5` invite, runs a
 * group engine of her own under the invite's group ID and answers Nina's challenge with the proof
 * any link holder could make; Nina, an unmodified peer, became a "member" of Mallory's group, and
 * Mallory read what Nina sent. Since v3 the member proof key is the inviter's (derived from its
 * identity seed), given to members only, and a contact proves membership with a signature Nina
 * checks against the ticket: what Mallory can make from the link does not verify.
 */
import '../../app/net/shim.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startPeer, type RunningPeer } from '../../app/peer/peer.js';
import { Profile } from '../../app/store/profile.js';
import { memberKeyOfPeer, peerOfMemberKey, bytesToHex, hexToBytes } from '../../app/net/ids.js';
import { GROUP_LIMITS, PROTOCOL_GROUP, sendFrames, serve } from '../../app/net/unicast.js';
import { noteMdnsFind } from '../../app/net/node.js';
import { topicsOf } from '../../app/net/topics.js';
import { PROTOCOL_INVITE } from '../../app/peer/invite-exchange.js';
import { createHmac } from 'node:crypto';
import { parseInvite } from '../../app/peer/invite.js';
import { GroupEngine } from '../../app/core/engine.js';
import { nodeCrypto } from '../../app/crypto/node.js';
import { until } from './harness.js';

const running: RunningPeer[] = [];
const dirs: string[] = [];
after(async () => {
  for (const p of running) await p.stop().catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function peer(name: string): Promise<{ peer: RunningPeer; seed: Uint8Array }> {
  const dir = mkdtempSync(join(tmpdir(), 'r45b-'));
  dirs.push(dir);
  const pre = Profile.open(dir);
  const seed = pre.identity(name).seed;
  pre.close();
  const p = await startPeer({ profile: dir, name, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  running.push(p);
  return { peer: p, seed };
}

async function state(p: RunningPeer, group: string): Promise<string | undefined> {
  const list = (await p.api.call('group.list', {})) as { group: string; state: string }[];
  return list.find((g) => g.group === group)?.state;
}

/** Mallory: a holder of the invite link, with a made-up group of her own under its group ID. */
async function arm(mallory: RunningPeer, seed: Uint8Array, link: string) {
  const invite = parseInvite(link, Date.now());
  // What every holder of the link can compute: the v2 member proof key and its HMAC proof.
  const proofKey = nodeCrypto.hkdf(invite.secret, new TextEncoder().encode('conclave/invite/v2'), new TextEncoder().encode('member-proof'), 32);
  const memberProof = (key: Uint8Array, c: { group: string; id: string; joiner: string; contact: string; nonce: Uint8Array }): Uint8Array =>
    new Uint8Array(
      createHmac('sha256', key)
        .update(Buffer.concat([Buffer.from('conclave/invite/member-proof/v2\0'), hexToBytes(c.group), Buffer.from(c.id), hexToBytes(c.joiner), hexToBytes(c.contact), c.nonce]))
        .digest(),
    );
  const joinRequests: Uint8Array[] = [];
  const group = invite.group;
  const self = memberKeyOfPeer(mallory.node.peerId)!;
  const fake = GroupEngine.create(
    { crypto: nodeCrypto, rng: (n: number) => new Uint8Array(randomBytes(n)), admission: { check: () => ({ ok: true }) } },
    { seed, name: 'mallory' },
    { group, name: invite.name, params: invite.params, now: Date.now() },
  );
  const read: string[] = [];
  const pump = async (): Promise<void> => {
    for (let e = fake.pollEvent(); e; e = fake.pollEvent()) if (e.type === 'data') read.push(new TextDecoder().decode(e.payload));
    for (let t = fake.pollTransmit(); t; t = fake.pollTransmit()) {
      if (t.kind !== 'unicast') continue;
      const frame = new Uint8Array(16 + t.bytes.length);
      frame.set(hexToBytes(group), 0);
      frame.set(t.bytes, 16);
      await sendFrames(mallory.node, peerOfMemberKey(t.to)!, PROTOCOL_GROUP, [frame], GROUP_LIMITS);
    }
  };
  await mallory.node.unhandle(PROTOCOL_INVITE);
  await serve(mallory.node, PROTOCOL_INVITE, { maxFrameBytes: 4096, maxFrames: 1, timeoutMs: 10_000 }, (remote, frames) => {
    const c = JSON.parse(new TextDecoder().decode(frames[0])) as { id: string; nonce: string };
    const proof = memberProof(proofKey, { group, id: c.id, joiner: memberKeyOfPeer(remote)!, contact: self, nonce: new Uint8Array(Buffer.from(c.nonce, 'base64url')) });
    return [new TextEncoder().encode(JSON.stringify({ t: 'proof', proof: Buffer.from(proof).toString('base64url') }))];
  });
  await mallory.node.unhandle(PROTOCOL_GROUP);
  await serve(mallory.node, PROTOCOL_GROUP, GROUP_LIMITS, async (remote, frames) => {
    const f = frames[0];
    if (!f || bytesToHex(f.subarray(0, 16)) !== group) return undefined;
    joinRequests.push(f);
    try {
      fake.receive(memberKeyOfPeer(remote)!, 'unicast', f.slice(16), Date.now());
    } catch {
      /* refused */
    }
    await pump();
    return undefined;
  });
  // Mallory listens on the group's data topic and opens what is sealed under her TEK.
  const pubsub = mallory.node.services.pubsub as unknown as {
    subscribe(t: string): void;
    addEventListener(n: string, f: (e: CustomEvent<{ topic: string; data: Uint8Array; from?: { toString(): string } }>) => void): void;
  };
  const topics = topicsOf(group);
  pubsub.subscribe(topics.data);
  pubsub.subscribe(topics.control);
  pubsub.addEventListener('message', (evt) => {
    const m = evt.detail as { topic: string; data: Uint8Array; from?: { toString(): string } };
    if (m.topic !== topics.data || !m.from) return;
    const from = memberKeyOfPeer(m.from as never);
    if (!from) return;
    try {
      fake.receive(from, 'data', m.data, Date.now());
    } catch {
      /* not ours */
    }
    void pump();
  });
  const tick = setInterval(() => {
    fake.tick(Date.now());
    void pump();
  }, 100);
  tick.unref();
  return { fake, read, self, joinRequests, stop: () => clearInterval(tick) };
}

test('a second holder of a multi-use invite cannot pose as the group to another holder (the inviter offline)', { timeout: 120_000 }, async () => {
  const host = await peer('host');
  const { group } = (await host.peer.api.call('group.create', { name: 'den' })) as { group: string };
  const { invite } = (await host.peer.api.call('group.invite', { group, uses: 5, ttlSec: 600 })) as { invite: string };
  // The inviter goes offline (invites are meant to work without it: docs/protocol.md §5.1).
  await host.peer.stop();

  const mallory = await peer('mallory');
  const m = await arm(mallory.peer, mallory.seed, invite);
  const nina = await peer('nina');
  await nina.peer.node.dial(mallory.peer.node.getMultiaddrs()[0]!);
  // As mDNS would: Mallory is a LAN peer, offered to the join.
  noteMdnsFind(nina.peer.node, mallory.peer.node.peerId);
  nina.peer.node.dispatchEvent(new CustomEvent('peer:discovery', { detail: { id: mallory.peer.node.peerId, multiaddrs: mallory.peer.node.getMultiaddrs() } }));
  await nina.peer.api.call('group.join', { invite });
  const joined = await until('nina to report herself a member', async () => (await state(nina.peer, group)) === 'member', 15_000).then(
    () => true,
    () => false,
  );
  await nina.peer.api.call('chat.send', { group, text: 'nina: my secret for the group' }).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 2000));
  m.stop();
  assert.equal(m.joinRequests.length, 0, 'Nina sent Mallory no join request');
  assert.equal(joined, false, "Nina is a member of Mallory's made-up group");
  assert.deepEqual(m.read, [], 'Mallory read what Nina sent');
});
