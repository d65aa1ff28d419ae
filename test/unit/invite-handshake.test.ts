/**
 * The join handshake and the invite ledger (issue 15 §2; docs/protocol.md §5
 * "Invites and the join handshake"), in process: group runtimes over an in-memory
 * unicast, the real engine and the real admission hook.
 *
 * The attacks, each first as it succeeded at d2c8910, then refused:
 * - a LAN peer that answers first used to receive the whole invite link as the
 *   credential; now it gets a challenge (invite ID + nonce) and, even if it gets a
 *   credential, that credential admits only the newcomer that signed it;
 * - a proof relayed from a real member does not verify for the relaying peer;
 * - an Admit from a peer that did not prove membership is refused.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { GroupEngine, admitEveryone } from '../../app/core/engine.js';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { bytesToHex, peerIdStringOfMemberKey } from '../../app/net/ids.js';
import { Profile } from '../../app/store/profile.js';
import { GroupRuntime, newGroupRecord, type GroupHost } from '../../app/peer/group.js';
import { defaultParams } from '../../app/peer/params.js';
import { createInvite, parseInvite, joinCredential, checkCredential, memberProofSeed, memberProof, signRevocation, InviteError, type Invite } from '../../app/peer/invite.js';
import { judgeAnswer, challengeFrame } from '../../app/peer/invite-exchange.js';
import { admit } from '../../app/peer/admission.js';
import { ledgerOf, mergeLedger, recordIssued, recordRevocation, inviteViews } from '../../app/peer/invite-ledger.js';
import type { GroupRecord } from '../../app/store/profile.js';

const dirs: string[] = [];
const profiles: Profile[] = [];
after(() => {
  for (const p of profiles) p.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Who {
  seed: Uint8Array;
  key: string;
  peerId: string;
}
function who(): Who {
  const seed = new Uint8Array(randomBytes(32));
  const key = bytesToHex(nobleCrypto.ed25519PublicKey(seed));
  return { seed, key, peerId: peerIdStringOfMemberKey(key)! };
}

const params = defaultParams({ exclude: 'any-member' });

function makeInvite(inviter: Who, group: string, uses = 3, expiresAt = Date.now() + 3_600_000): Invite {
  const link = createInvite({ group, name: 'door', params, inviterSeed: inviter.seed, inviterPeerId: inviter.peerId, addrs: [], expiresAt, uses, secret: new Uint8Array(randomBytes(16)) });
  return parseInvite(link, Date.now());
}

function record(group: string): GroupRecord {
  const r = newGroupRecord('', 'door', Date.now());
  r.group = group;
  return r;
}

/** An in-memory unicast between runtimes: what each sends, to whom, delivered on the next turn. */
class Net {
  readonly runtimes = new Map<string, GroupRuntime>();
  readonly sent: { from: string; to: string; bytes: Uint8Array }[] = [];
  host(self: Who): GroupHost {
    const dir = mkdtempSync(join(tmpdir(), 'conclave-hs-'));
    dirs.push(dir);
    const profile = Profile.open(dir);
    profiles.push(profile);
    return {
      selfKey: self.key,
      profile,
      sign: (message) => nobleCrypto.ed25519Sign(self.seed, message),
      events: { emit: () => {} },
      now: () => Date.now(),
      displayName: () => self.peerId.slice(-4),
      publish: () => {},
      unicast: (_group, to, bytes) => {
        this.sent.push({ from: self.key, to, bytes });
        setImmediate(() => this.runtimes.get(to)?.receive(self.key, 'unicast', bytes));
      },
      peerIdOf: (k) => peerIdStringOfMemberKey(k) ?? k,
      allowlisted: () => false,
      onMember: () => {},
      log: () => {},
    };
  }
}

const turns = (n = 20) => new Promise<void>((resolve) => {
  let left = n;
  const step = () => (--left <= 0 ? resolve() : setImmediate(step));
  setImmediate(step);
});

test('a fake contact that answers first gets a challenge with nothing reusable, and cannot prove membership', () => {
  const inviter = who();
  const newcomer = who();
  const fake = who();
  const invite = makeInvite(inviter, bytesToHex(randomBytes(16)));
  const nonce = new Uint8Array(randomBytes(32));
  const challenge = Buffer.from(challengeFrame(invite.id, nonce)).toString('utf8');
  // What the fake hears: the invite ID and a fresh nonce; neither the group, nor the secret, nor the ticket.
  assert.ok(!challenge.includes(invite.group), 'the group ID is not in the challenge');
  assert.ok(!challenge.includes(Buffer.from(invite.secret).toString('base64url')), 'the secret is not in the challenge');
  assert.ok(!challenge.includes(invite.link.slice(-40)), 'the link is not in the challenge');
  // Whatever it answers, it is not a member: a made-up proof, a garbled frame, silence.
  const madeUp = new TextEncoder().encode(JSON.stringify({ t: 'proof', proof: Buffer.from(randomBytes(32)).toString('base64url') }));
  assert.equal(judgeAnswer(invite, newcomer.key, fake.key, nonce, madeUp), 'forged');
  assert.equal(judgeAnswer(invite, newcomer.key, fake.key, nonce, new TextEncoder().encode('{"t":"proof"}')), 'forged');
  assert.equal(judgeAnswer(invite, newcomer.key, fake.key, nonce, undefined), 'no-proof');
  const fakeRevocation = new TextEncoder().encode(JSON.stringify({ t: 'revoked', revocation: Buffer.from(signRevocation(fake.seed, invite.group, invite.id)).toString('base64url') }));
  assert.equal(judgeAnswer(invite, newcomer.key, fake.key, nonce, fakeRevocation), 'forged', 'only the inviter can revoke');
  // A member's genuine proof verifies only for that member, this newcomer and this nonce.
  const proofKey = memberProofSeed(inviter.seed, invite.secret);
  const frame = (contact: string, n: Uint8Array) =>
    new TextEncoder().encode(JSON.stringify({ t: 'proof', proof: Buffer.from(memberProof(proofKey, { group: invite.group, id: invite.id, joiner: newcomer.key, contact, nonce: n })).toString('base64url') }));
  assert.equal(judgeAnswer(invite, newcomer.key, inviter.key, nonce, frame(inviter.key, nonce)), 'member');
  assert.equal(judgeAnswer(invite, newcomer.key, fake.key, nonce, frame(inviter.key, nonce)), 'forged', 'a proof relayed from a member does not verify for the relay');
  assert.equal(judgeAnswer(invite, newcomer.key, inviter.key, nonce, frame(inviter.key, new Uint8Array(32))), 'forged', 'an old proof does not answer a fresh nonce');
  const genuineRevocation = new TextEncoder().encode(JSON.stringify({ t: 'revoked', revocation: Buffer.from(signRevocation(inviter.seed, invite.group, invite.id)).toString('base64url') }));
  assert.equal(judgeAnswer(invite, newcomer.key, inviter.key, nonce, genuineRevocation), 'revoked');
});

test('the credential is bound to the newcomer: a thief can neither join with it nor read the secret from it', () => {
  const inviter = who();
  const newcomer = who();
  const thief = who();
  const group = bytesToHex(randomBytes(16));
  const invite = makeInvite(inviter, group);
  const credential = joinCredential(invite, newcomer.key);
  // At d2c8910 the credential was the link itself: whoever received it could join with it.
  assert.ok(!Buffer.from(credential).includes(Buffer.from(invite.secret)), 'the secret is not in the credential');
  assert.ok(!Buffer.from(credential).toString('latin1').includes(invite.link.slice(16)), 'the link is not in the credential');
  assert.equal(checkCredential(credential, newcomer.key, Date.now()).id, invite.id);
  assert.throws(() => checkCredential(credential, thief.key, Date.now()), (e: unknown) => e instanceof InviteError && e.code === 'bad-signature');
  const ctx = { group, record: record(group), selfKey: inviter.key, allowlisted: () => false, isCurrentMember: () => false, changed: () => {} };
  assert.deepEqual(admit(ctx, { group, member: newcomer.key, name: 'n', credential }, Date.now()), { ok: true });
  const stolen = admit(ctx, { group, member: thief.key, name: 't', credential }, Date.now());
  assert.equal(stolen.ok, false);
  // The old form (the link as credential) admits nobody any more.
  const legacy = admit(ctx, { group, member: thief.key, name: 't', credential: new TextEncoder().encode(invite.link) }, Date.now());
  assert.equal(legacy.ok, false);
});

test('over runtimes: the engine asks only contacts that proved membership, and an Admit from anyone else is refused', async () => {
  const net = new Net();
  const member = who();
  const newcomer = who();
  const fake = who();
  const now = Date.now();
  const memberRt = new GroupRuntime(net.host(member), newGroupRecord('', 'door', now), (deps) => GroupEngine.create(deps, { seed: member.seed, name: 'member' }, { name: 'door', params, now }), 100);
  net.runtimes.set(member.key, memberRt);
  memberRt.drive();
  const invite = makeInvite(member, memberRt.group, 1);
  recordIssued(memberRt.record, invite, memberProofSeed(member.seed, invite.secret));

  // The fake runs a group of its own making with the same ID and admits anyone.
  const fakeRt = new GroupRuntime(net.host(fake), newGroupRecord('', 'door', now), (deps) => GroupEngine.create({ ...deps, admission: admitEveryone }, { seed: fake.seed, name: 'fake' }, { group: memberRt.group, name: 'door', params, now }), 100);
  fakeRt.drive();

  const joinerRt = new GroupRuntime(net.host(newcomer), record(invite.group), (deps) =>
    GroupEngine.join(deps, { seed: newcomer.seed, name: 'newcomer' }, { group: invite.group, name: invite.name, params: invite.params, credential: joinCredential(invite, newcomer.key), contacts: [], now }),
  100);
  net.runtimes.set(newcomer.key, joinerRt);
  joinerRt.drive();
  // The handshake's verdicts (the network part is exercised by the integration test).
  joinerRt.contactCheck = async (key) => key === member.key;
  joinerRt.addContacts([fake.key, member.key]);
  await turns();
  assert.ok(net.sent.every((s) => s.from !== newcomer.key || s.to === member.key), 'nothing was sent to the fake');

  // The fake got hold of the newcomer's join request anyway (say, relayed): its Admit is refused.
  const request = net.sent.find((s) => s.from === newcomer.key)!;
  const fakeSent = net.sent.length;
  fakeRt.receive(newcomer.key, 'unicast', request.bytes);
  const fakeAdmit = net.sent.slice(fakeSent).find((s) => s.from === fake.key && s.to === newcomer.key);
  assert.ok(fakeAdmit, 'the fake answered with an Admit');
  await turns(40);
  assert.equal(joinerRt.engine.state(), 'member', 'the real member admitted the newcomer');
  assert.deepEqual(joinerRt.engine.members().map((m) => m.key).sort(), [member.key, newcomer.key].sort());
  // Replayed now, the fake's Admit changes nothing (it was never asked).
  assert.notEqual(joinerRt.receive(fake.key, 'unicast', fakeAdmit.bytes), 'accept');
  assert.ok(!joinerRt.engine.members().some((m) => m.key === fake.key));
  assert.deepEqual(memberRt.record.inviteUses[invite.id], [newcomer.key], 'the use was counted');
  for (const rt of [memberRt, fakeRt, joinerRt]) rt.stop();
});

test('use limit group-wide: an admitter that merged a fellow member\'s ledger counts its uses; a revocation is the inviter\'s only', () => {
  const inviter = who();
  const other = who();
  const group = bytesToHex(randomBytes(16));
  const invite = makeInvite(inviter, group, 1);
  const members = (k: string) => k === inviter.key || k === other.key;
  const a = record(group);
  const b = record(group);
  recordIssued(a, invite, memberProofSeed(inviter.seed, invite.secret));
  const ctx = (r: GroupRecord, self: string) => ({ group, record: r, selfKey: self, allowlisted: () => false, isCurrentMember: (k: string) => k === inviter.key || k === other.key, changed: () => {} });
  const first = who();
  const second = who();
  assert.deepEqual(admit(ctx(a, inviter.key), { group, member: first.key, name: '1', credential: joinCredential(invite, first.key) }, Date.now()), { ok: true });
  // b hears of a's ledger (the announcement after each admission): the one use is spent for b too.
  assert.equal(mergeLedger(b, group, ledgerOf(a, Date.now()), Date.now(), members), true);
  assert.deepEqual(admit(ctx(b, other.key), { group, member: second.key, name: '2', credential: joinCredential(invite, second.key) }, Date.now()), { ok: false, reason: 'invite has been used up' });
  assert.deepEqual(admit(ctx(b, other.key), { group, member: first.key, name: '1', credential: joinCredential(invite, first.key) }, Date.now()), { ok: true }, 'the member that used it may use it again');
  assert.equal(mergeLedger(b, group, ledgerOf(a, Date.now()), Date.now(), members), false, 'merging twice changes nothing');
  // b learnt the proof key (it can answer newcomers' challenges) because it matches the inviter's commitment.
  assert.ok(b.invites?.[invite.id]?.proofKey);

  // A revocation signed by anyone but the inviter does not enter the ledger; the inviter's does, and holds group-wide.
  const c = record(group);
  const forged = ledgerOf(a, Date.now()).map((e) => ({ ...e, revocation: Buffer.from(signRevocation(other.seed, group, invite.id)).toString('base64url') }));
  mergeLedger(c, group, forged, Date.now(), members);
  assert.equal(c.invites?.[invite.id]?.revocation, undefined);
  const wrongKey = ledgerOf(a, Date.now()).map((e) => ({ ...e, proofKey: Buffer.from(randomBytes(32)).toString('base64url') }));
  const d = record(group);
  mergeLedger(d, group, wrongKey, Date.now(), members);
  assert.equal(d.invites?.[invite.id]?.proofKey, undefined, 'a proof key that does not match the commitment is dropped');
  const fresh = makeInvite(inviter, group, 5);
  recordIssued(a, fresh, memberProofSeed(inviter.seed, fresh.secret));
  recordRevocation(a, fresh, signRevocation(inviter.seed, group, fresh.id));
  mergeLedger(b, group, ledgerOf(a, Date.now()), Date.now(), members);
  assert.deepEqual(admit(ctx(b, other.key), { group, member: second.key, name: '2', credential: joinCredential(fresh, second.key) }, Date.now()), { ok: false, reason: 'invite was revoked by its inviter' });
  const views = inviteViews(b, Date.now());
  assert.deepEqual(views.map((v) => [v.id, v.used, v.uses, v.revoked]).sort(), [[invite.id, 1, 1, false], [fresh.id, 0, 5, true]].sort());
  // Tickets of another group never enter.
  const e = record(bytesToHex(randomBytes(16)));
  assert.equal(mergeLedger(e, e.group, ledgerOf(a, Date.now()), Date.now(), members), false);
});
