/**
 * Issue 5 "done when", on loopback with real processes: six headless peers, one
 * creates and five join through invites; everyone's chat reaches everyone; an
 * excluded peer sees later messages only as undecryptable (or not at all); a
 * kill -9 of the TEK holder does not stop the chat; the killed peer restarts from
 * its profile with its history and catches up; expired and tampered invites are
 * refused with clear errors, over the API and on the command line.
 */
import '../../app/net/shim.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cleanup, history, spawnConclave, startTestPeer, tempDir, until, waitMember, type TestPeer } from './harness.js';
import { createInvite, INVITE_PREFIX } from '../../app/peer/invite.js';
import { defaultParams } from '../../app/peer/params.js';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { peerIdStringOfMemberKey, bytesToHex } from '../../app/net/ids.js';

after(cleanup);

async function memberCount(p: TestPeer, group: string): Promise<number> {
  const members = await p.api.call<{ state: string }[]>('group.members', { group });
  return members.filter((m) => m.state === 'member').length;
}

async function everyoneSees(peers: TestPeer[], group: string, texts: string[], what: string): Promise<void> {
  for (const p of peers) {
    let missing: string[] = [];
    await until(`${p.name} to see ${what}`, async () => {
      const h = await history(p, group);
      missing = texts.filter((t) => !h.some((m) => m.text === t));
      return missing.length === 0;
    }, 60_000).catch(async (err: Error) => {
      const info = await p.api.call<{ connections: unknown[] }>('net.info');
      if (process.env.CONCLAVE_IT_VERBOSE) {
        for (const q of peers) {
          const t = await q.api.call<{ log: { at: number; kind: string; text: string }[] }>('keys.table', { group }).catch(() => ({ log: [] }));
          console.log(q.name, t.log.filter((l) => !l.text.startsWith('created KEK')).map((l) => `${l.at % 100000} ${l.kind} ${l.text}`).join('\n  '));
        }
      }
      throw new Error(`${err.message}; missing ${JSON.stringify(missing)}; ${info.connections.length} connections; events ${JSON.stringify(p.api.events.filter((e) => e.method !== 'chat.message' && e.method !== 'net.connection').slice(-12))}`);
    });
  }
}

/** Wait until every peer reads under the same TEK (version, creators, fingerprint) twice in a row. */
async function keysSettle(peers: TestPeer[], group: string, minVersion: number): Promise<void> {
  let previous = '';
  await until('the group to settle on one TEK', async () => {
    const teks = await Promise.all(
      peers.map((p) => p.api.call<{ tek: { version: number; creators: string[]; fingerprint: string | null } | null }>('keys.table', { group }).then((t) => t.tek)),
    );
    const first = teks[0];
    if (!first || first.version < minVersion) return false;
    const same = teks.every((t) => t && t.version === first.version && t.fingerprint === first.fingerprint && t.creators.join() === first.creators.join());
    const now = same ? `${first.version}/${first.creators.join()}/${first.fingerprint}` : '';
    const stable = same && now === previous;
    previous = now;
    return stable;
  }, 60_000, 1000).catch(async (err: Error) => {
    if (process.env.CONCLAVE_IT_VERBOSE) {
      for (const q of peers) {
        const t = await q.api.call<{ tek: unknown; log: { at: number; kind: string; text: string }[] }>('keys.table', { group });
        console.log(q.name, JSON.stringify(t.tek), '\n  ' + t.log.filter((l) => !l.text.startsWith('created KEK')).map((l) => `${l.at % 100000} ${l.kind} ${l.text}`).join('\n  '));
      }
    }
    throw err;
  });
}

test('six peers: invites, chat, exclusion, kill -9 of the TEK holder, restart and catch-up, bad invites', { timeout: 240_000 }, async () => {
  const alice = await startTestPeer({ name: 'alice', create: 'six' });
  const group = alice.group!;
  const peers: TestPeer[] = [alice];
  // Five single-use invites, five newcomers joining at the same time.
  const names = ['bob', 'carol', 'dave', 'erin', 'frank'];
  const invites = await Promise.all(names.map(() => alice.api.call<{ invite: string }>('group.invite', { group, uses: 1 })));
  peers.push(...(await Promise.all(names.map((name, i) => startTestPeer({ name, join: invites[i]!.invite })))));
  for (const p of peers) await waitMember(p, group);
  for (const p of peers) await until(`${p.name} to know 6 members`, async () => (await memberCount(p, group)) === 6, 60_000);

  // Chat from every peer reaches every other, in history and as events.
  const round1 = peers.map((p) => `hello from ${p.name}`);
  for (const p of peers) await p.api.call('chat.send', { group, text: `hello from ${p.name}` });
  await everyoneSees(peers, group, round1, 'round 1');
  for (const p of peers) {
    // An event follows the history record once its fsync is done (group commit): wait for it briefly.
    const seen = () => p.api.events.filter((e) => e.method === 'chat.message').map((e) => e.params.text);
    await until(`${p.name} to get an event for every message`, () => peers.every((q) => q === p || seen().includes(`hello from ${q.name}`)), 10_000).catch(() => undefined);
    for (const q of peers) if (q !== p) assert.ok(seen().includes(`hello from ${q.name}`), `${p.name} got an event for ${q.name}'s message`);
  }

  // Exclusion: frank is excluded by bob; later messages never reach frank as text.
  const frank = peers[5]!;
  await peers[1]!.api.call('group.exclude', { group, peers: [frank.peerId] });
  await until('frank to get group.excluded', () => frank.api.events.some((e) => e.method === 'group.excluded' && e.params.group === group), 60_000);
  const rest = peers.slice(0, 5);
  for (const p of rest) await until(`${p.name} to see frank excluded`, async () => (await memberCount(p, group)) === 5, 60_000);
  // Concurrent exclusion tables may race and merge (docs/protocol.md); chat once the group agrees on TEK v2+.
  await keysSettle(rest, group, 2);
  const round2 = rest.map((p) => `after exclusion from ${p.name}`);
  for (const p of rest) await p.api.call('chat.send', { group, text: `after exclusion from ${p.name}` });
  await everyoneSees(rest, group, round2, 'round 2');
  const frankHistory = await history(frank, group);
  for (const t of round2) assert.ok(!frankHistory.some((m) => m.text === t), 'an excluded peer never reads later messages');
  assert.ok(!frank.api.events.some((e) => e.method === 'chat.message' && String(e.params.text).startsWith('after exclusion')));
  await assert.rejects(frank.api.call('chat.send', { group, text: 'let me in' }), /not a member/);

  // kill -9 of the TEK holder: the rest keep chatting.
  const table = await peers[2]!.api.call<{ tek: { owner: string | null } | null }>('keys.table', { group });
  const ownerPeerId = table.tek?.owner ? peerIdStringOfMemberKey(table.tek.owner) : null;
  const holder = rest.find((p) => p.peerId === ownerPeerId) ?? alice;
  const holderHistoryBefore = (await history(holder, group)).map((m) => m.text);
  holder.api.close();
  holder.spawned.proc.kill('SIGKILL');
  await holder.spawned.exit;
  const survivors = rest.filter((p) => p !== holder);
  const round3 = survivors.map((p) => `while ${holder.name} is down, from ${p.name}`);
  for (const p of survivors) await p.api.call('chat.send', { group, text: `while ${holder.name} is down, from ${p.name}` });
  await everyoneSees(survivors, group, round3, 'round 3');

  // Restart from the same profile: history kept, missed messages caught up.
  const back = await startTestPeer({ name: holder.name, profile: holder.profile });
  const backHistory = (await history(back, group)).map((m) => m.text);
  for (const t of holderHistoryBefore) assert.ok(backHistory.includes(t), `restarted peer kept "${t}"`);
  await everyoneSees([back], group, round3, 'messages sent while it was down');
  const finalHistory = await history(back, group);
  const ids = finalHistory.map((m) => `${m.sender}:${m.id}`);
  assert.equal(new Set(ids).size, ids.length, 'no duplicates after catch-up');
  await back.api.call('chat.send', { group, text: `${holder.name} is back` });
  await everyoneSees(survivors, group, [`${holder.name} is back`], 'the restarted peer');

  // A second process on the same profile refuses to start (checked below, in parallel).
  const twin = spawnConclave(['peer', '--profile', holder.profile, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0']);

  // Expired and tampered invites: clear typed errors over the API and on the CLI.
  const stranger = randomBytes(32);
  const strangerPeer = peerIdStringOfMemberKey(bytesToHex(nobleCrypto.ed25519PublicKey(stranger)))!;
  const expired = createInvite({
    group,
    name: 'six',
    params: defaultParams({ exclude: 'any-member' }),
    inviterSeed: stranger,
    inviterPeerId: strangerPeer,
    addrs: [],
    expiresAt: Date.now() - 60_000,
    uses: 1,
    secret: randomBytes(16),
  });
  const fresh = frank; // any running peer refuses these before anything else happens
  await assert.rejects(fresh.api.call('group.join', { invite: expired }), (err: Error & { code?: number }) => err.code === -32005 && /expired/.test(err.message));
  const good = (await survivors[0]!.api.call<{ invite: string }>('group.invite', { group })).invite;
  const raw = Buffer.from(good.slice(INVITE_PREFIX.length), 'base64url');
  const bodyLength = raw.readUInt16BE(0);
  const body = raw.subarray(2, 2 + bodyLength).toString('utf8').replace('"uses":10', '"uses":99');
  assert.equal(Buffer.byteLength(body), bodyLength);
  raw.write(body, 2, 'utf8');
  const tampered = INVITE_PREFIX + raw.toString('base64url');
  await assert.rejects(fresh.api.call('group.join', { invite: tampered }), (err: Error & { code?: number }) => err.code === -32004 && /signature/.test(err.message));
  await assert.rejects(fresh.api.call('group.join', { invite: 'conclave://join/!!!' }), (err: Error & { code?: number }) => err.code === -32004);
  const cases = [
    [expired, /^conclave: invite expired at /],
    [tampered, /^conclave: invite signature does not verify/],
  ] as const;
  const clis = cases.map(([invite]) => spawnConclave(['peer', '--profile', tempDir(), '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--join', invite]));
  for (const [i, cli] of clis.entries()) {
    assert.equal(await cli.exit, 1);
    assert.equal(cli.stderr.length, 1, 'one line');
    assert.match(cli.stderr[0]!, cases[i]![1]);
  }
  assert.equal(await twin.exit, 1);
  assert.equal(twin.stderr.length, 1, 'one line');
  assert.match(twin.stderr[0]!, /^conclave: profile .* is in use by another process \(pid \d+\)$/);
});
