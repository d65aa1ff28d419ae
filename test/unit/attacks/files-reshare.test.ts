// Issue 18 §1 ("a late joiner gets the picture by catch-up"): the member that admits a
// newcomer re-shares the group's file messages with it (app/peer/board-share.ts), each as
// its author signed it. The sharer is a member the newcomer must not have to trust: it
// could alter a file message (its content key, its file ID, its hashes) to make the
// newcomer fetch and show other content on the author's card, or pass chat along. Each
// of these is refused by the receiver's checks (app/peer/authorship.ts, payload.ts). An
// honest sharer never offers a message its author deleted (tested here); a malicious one
// can, and the newcomer cannot tell (review4-open.test.ts, a todo).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { decodePayload, encodePayload, signMessage, type Body, type SignedMessage } from '../../../app/peer/payload.js';
import { checkAuthorship, type AuthorshipContext } from '../../../app/peer/authorship.js';
import { GroupHistory } from '../../../app/peer/history.js';
import { Profile } from '../../../app/store/profile.js';
import { signer } from '../signers.js';

const G = '11'.repeat(16);
const alice = signer(1); // the author
const bob = signer(2); // the sharer
const mallory = signer(3); // excluded
const seqs = new Map<string, number>();
let idn = 0;
const sign = (who: ReturnType<typeof signer>, body: Body): SignedMessage => {
  const s = (seqs.get(who.key) ?? 0) + 1;
  seqs.set(who.key, s);
  return signMessage(G, who, { s, k: 1, at: 1000 + s, id: (++idn).toString(16).padStart(32, '0') }, body);
};
const file = (fidByte: string, keyByte = 'a'): Body & { t: 'file' } => ({
  t: 'file',
  fid: fidByte.repeat(32),
  name: 'cat.png',
  size: 10,
  mime: 'image/png',
  sha256: 'c'.repeat(64),
  key: keyByte.repeat(64),
  chunk: 64 * 1024,
  count: 1,
  hashes: Buffer.alloc(32, 7).toString('base64'),
});
const roster: Record<string, 'member' | 'excluded' | 'left'> = { [alice.key]: 'left', [bob.key]: 'member', [mallory.key]: 'excluded' };
const ctx: AuthorshipContext = { group: G, crypto: nodeCrypto, rosterState: (k) => roster[k], now: 5000 };
const asShared = (m: SignedMessage) => checkAuthorship(ctx, m, { from: bob.key, tekVersion: 3, boardShare: false, fileShare: true });

test('attack: a sharer that alters a re-shared file message (another content key, another file ID) is refused', () => {
  const genuine = sign(alice, file('1'));
  assert.equal(asShared(genuine).ok, true, "alice's file message as she signed it, carried by bob: kept");
  const body = JSON.parse(genuine.b) as Body & { t: 'file' };
  const altered: SignedMessage[] = [
    { ...genuine, b: JSON.stringify({ ...body, key: 'e'.repeat(64) }) },
    { ...genuine, b: JSON.stringify({ ...body, fid: '9'.repeat(32) }) },
    { ...genuine, b: JSON.stringify({ ...body, hashes: Buffer.alloc(32, 8).toString('base64') }) },
    { ...genuine, a: bob.key },
  ];
  for (const m of altered) {
    const v = asShared(m);
    assert.equal(v.ok, false);
    assert.equal(!v.ok && v.reason, 'bad-signature');
  }
  // Carried inside a real payload: the same.
  const payload = decodePayload(encodePayload({ v: 2, t: 'files', items: [genuine, altered[0]!] }));
  assert.ok(payload && payload.t === 'files');
  assert.deepEqual(payload.items.map((m) => asShared(m).ok), [true, false]);
});

test('attack: a file re-share carries file messages only, of members or leavers (never chat, never strokes, never an excluded author)', () => {
  const chat = sign(alice, { t: 'chat', text: 'old secret', name: 'Alice' });
  const stroke = sign(alice, { t: 'stroke', stroke: { id: 's1', tool: 'pen', color: '#000000', width: 2, points: [{ x: 0, y: 0 }] } });
  for (const m of [chat, stroke]) {
    const v = asShared(m);
    assert.equal(!v.ok && v.reason, 'invalid');
  }
  const excluded = asShared(sign(mallory, file('2')));
  assert.equal(!excluded.ok && excluded.reason, 'not-authorized', 'the carrier may not pass it on (review 35: read as "not a member", the carrier\'s line turned grey)');
  // A board re-share does not carry files either.
  const inBoard = checkAuthorship(ctx, sign(alice, file('3')), { from: bob.key, tekVersion: 3, boardShare: true });
  assert.equal(!inBoard.ok && inBoard.reason, 'invalid');
  // Live, a file message carried by another member than its author stays refused.
  const live = checkAuthorship(ctx, sign(alice, file('4')), { from: bob.key, tekVersion: 3, boardShare: false });
  assert.equal(live.ok, false);
});

test('a file re-share payload is bounded (FILE_SHARE_MAX items); more is undecodable', () => {
  const items = Array.from({ length: 51 }, (_, i) => sign(alice, file(((i % 9) + 1).toString())));
  assert.equal(decodePayload(encodePayload({ v: 2, t: 'files', items: items.slice(0, 50) }))?.t, 'files');
  const tooMany = new TextEncoder().encode(JSON.stringify({ v: 2, t: 'files', items }));
  assert.equal(decodePayload(tooMany), null);
});

test('the sharer offers its newest 50 file messages, never one deleted by its author, each as signed', () => {
  const profile = Profile.open(mkdtempSync(join(tmpdir(), 'conclave-fshare-')));
  const history = new GroupHistory(profile, G, bob.key, { emit: () => undefined });
  const sent: SignedMessage[] = [];
  for (let i = 0; i < 60; i++) {
    const m = sign(alice, file('0', 'a'));
    const fid = (i + 1).toString(16).padStart(32, '0');
    const own = signMessage(G, alice, { s: m.s, k: 1, at: m.at, id: m.id }, { ...file('0'), fid });
    history.keep(own, 'peer-alice', 'Alice', 1);
    sent.push(own);
  }
  // Alice deletes her newest file; Bob deletes Alice's second newest (not his: no effect).
  history.keep(sign(alice, { t: 'delete', target: sent[59]!.id }), 'peer-alice', 'Alice', 2);
  history.keep(sign(bob, { t: 'delete', target: sent[58]!.id }), 'peer-bob', 'Bob', 2);
  const shared = history.shareableFiles(50);
  assert.equal(shared.length, 50);
  assert.deepEqual(
    shared.map((m) => m.id),
    sent.slice(9, 59).map((m) => m.id),
    'the 50 newest still shown, oldest first',
  );
  assert.ok(shared.every((m, i) => m.sig === sent[9 + i]!.sig), 'as their author signed them');
  profile.close();
});

test('re-shared messages from before the admission open no gap: reconciliation does not chase numbers this member can never read', () => {
  const profile = Profile.open(mkdtempSync(join(tmpdir(), 'conclave-fshare-gap-')));
  const history = new GroupHistory(profile, G, bob.key, { emit: () => undefined });
  history.joinedTek(5);
  const at = (s: number, k: number, body: Body) => signMessage(G, alice, { s, k, at: 1000 + s, id: s.toString(16).padStart(32, '0') }, body);
  // Re-shared: alice's files 3 and 9, signed under TEK 1 and 2, before bob's admission (TEK 5).
  history.keep(at(3, 1, file('3')), 'peer-alice', 'Alice', 1);
  history.keep(at(9, 2, file('9')), 'peer-alice', 'Alice', 1);
  assert.deepEqual(history.gaps(), [], 'only old numbers held: nothing to chase');
  assert.equal(history.lastReadableOf(alice.key), 0, 'the next live message opens no gap either');
  // Live: 40 and 43, under TEK 5: 41–42 are a real gap; 1–39 are not.
  history.keep(at(40, 5, { t: 'chat', text: 'hi', name: 'Alice' }), 'peer-alice', 'Alice', 2);
  history.keep(at(43, 5, { t: 'chat', text: 'again', name: 'Alice' }), 'peer-alice', 'Alice', 3);
  assert.deepEqual(history.gaps(), [{ author: alice.key, missing: [[41, 42]] }]);
  assert.equal(history.lastReadableOf(alice.key), 43);
  profile.close();
});
