/**
 * The peer layer's guard (app/peer/peer-guard.ts) and the membership gate
 * (app/peer/membership-gate.ts): token buckets, strikes, blocks that lapse,
 * bounded memory, and which rows of docs/protocol.md §12 let a non-member's
 * input reach the engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerGuard, TokenBuckets } from '../../app/peer/peer-guard.js';
import { admitGossip, admitUnicast, judgeVerdict, peekType } from '../../app/peer/membership-gate.js';
import { MsgType, encodeMessage } from '../../app/core/wire.js';

test('a token bucket allows its burst, then its rate, and forgets the least recent key when full', () => {
  const b = new TokenBuckets(3, 2, 4);
  assert.deepEqual([0, 0, 0, 0].map(() => b.take('a', 0)), [true, true, true, false]);
  assert.equal(b.take('a', 499), false, 'not yet a whole token back');
  assert.equal(b.take('a', 500), true, 'two a second');
  for (let i = 0; i < 100; i++) b.take(`k${i}`, 1000);
  assert.equal(b.size, 4, 'bounded');
  assert.equal(b.take('a', 1000), true, 'a forgotten key starts with a full bucket');
});

test('the peer and the address buckets must both have a token', () => {
  const g = new PeerGuard({ peerBurst: 2, peerPerSecond: 0, addressBurst: 3, addressPerSecond: 0 });
  assert.equal(g.allowStream('p1', 'ip4/10.0.0.1', 0), true);
  assert.equal(g.allowStream('p1', 'ip4/10.0.0.1', 0), true);
  assert.equal(g.allowStream('p1', 'ip4/10.0.0.1', 0), false, 'the peer spent its burst');
  assert.equal(g.allowStream('p2', 'ip4/10.0.0.1', 0), false, 'the address spent its burst (three streams tried)');
  assert.equal(g.allowStream('p2', 'ip4/10.0.0.2', 0), true, 'another address');
});

test('strikes within the window block a peer for a while; the block lapses; onBlock runs once', () => {
  const blocked: string[] = [];
  const g = new PeerGuard({ strikesToBlock: 3, strikeWindowMs: 1000, blockMs: 5000 }, (id) => blocked.push(id));
  assert.equal(g.strike('p', 'x', 0), false);
  assert.equal(g.strike('p', 'x', 2000), false, 'the first strike left the window');
  assert.equal(g.strike('p', 'x', 2100), false);
  assert.equal(g.strike('p', 'forged Leave', 2200), true);
  assert.equal(g.isBlocked('p', 2200), true);
  assert.equal(g.strike('p', 'again', 2300), false, 'a blocked peer is not blocked twice');
  assert.deepEqual(blocked, ['p']);
  assert.deepEqual(g.blocked(3000), [{ peerId: 'p', until: 7200, reason: 'forged Leave' }]);
  assert.equal(g.isBlocked('p', 7200), false, 'lapsed');
  assert.deepEqual(g.blocked(7200), []);
});

test('the blocklist is bounded: a full list drops the block that ends first', () => {
  const g = new PeerGuard({ strikesToBlock: 1, blockMs: 1000, maxBlocked: 3, maxTracked: 3 });
  for (let i = 0; i < 10; i++) g.strike(`p${i}`, 'x', i);
  assert.deepEqual(
    g.blocked(10).map((b) => b.peerId),
    ['p9', 'p8', 'p7'],
  );
});

const GROUP = new Uint8Array(16).fill(7);
/** Every control message travels as a SealedControl (wire 3): the gate sees no inner type. */
const sealedControl = encodeMessage(GROUP, { type: MsgType.SealedControl, tekVersion: 1, tekTag: new Uint8Array(8), revision: 0, nonce: new Uint8Array(24), ciphertext: new Uint8Array(40) });
const leave = encodeMessage(GROUP, { type: MsgType.Leave, sentAt: 1, signature: new Uint8Array(64) });
const joinRequest = encodeMessage(GROUP, { type: MsgType.JoinRequest, name: 'n', credential: new Uint8Array(0), sentAt: 1 });
const data = encodeMessage(GROUP, {
  type: MsgType.Data,
  senderId: new Uint8Array([1]),
  tekVersion: 1,
  tekTag: new Uint8Array(8),
  revision: 0,
  sentAt: 1,
  nonce: new Uint8Array(24),
  ciphertext: new Uint8Array(32),
});

test('peekType reads the type of a Conclave message and nothing else', () => {
  assert.equal(peekType(leave), MsgType.Leave);
  assert.equal(peekType(new Uint8Array([1, 2, 3])), null);
  assert.equal(peekType(Uint8Array.of(leave[0]!, leave[1]!, 99)), null);
});

test('membership gate: a member, and anyone while this peer is not a member, reach the engine', () => {
  assert.deepEqual(admitGossip('member', 'member', 'control', leave), { pass: true, check: 'none' });
  for (const own of ['listening', 'joining', 'excluded', 'left'] as const) {
    assert.equal(admitGossip(own, null, 'control', leave).pass, true, own);
    assert.equal(admitUnicast(own, null, leave).pass, true, own);
  }
});

test('membership gate: a non-member reaches the engine only where §12 lets it in', () => {
  assert.deepEqual(admitGossip('member', 'excluded', 'control', sealedControl), { pass: true, check: 'accepted' }, 'H1: answered');
  assert.deepEqual(admitGossip('member', 'left', 'control', sealedControl), { pass: true, check: 'none' }, 'T1: a leaver\'s last table');
  // Was refused here (H3 is still no reason: the app never creates listen-first); M2 lets it
  // in on condition that it opens under our current TEK (judgeVerdict below).
  assert.deepEqual(admitGossip('member', null, 'control', sealedControl), { pass: true, check: 'opened' }, 'M2: a member whose admission we missed');
  assert.deepEqual(admitGossip('member', null, 'data', data), { pass: true, check: 'opened' }, 'D1');
  assert.equal(admitGossip('member', null, 'control', leave).pass, false, 'L1');
  assert.equal(admitGossip('member', 'left', 'control', leave).pass, false, 'L1 from a leaver');
  const garbage = admitGossip('member', null, 'data', new Uint8Array(40));
  assert.equal(!garbage.pass && garbage.reason, 'decode');
  assert.equal(admitUnicast('member', null, joinRequest).pass, true, 'J1');
  assert.equal(admitUnicast('member', null, leave).pass, false);
  assert.equal(admitUnicast('member', 'member', leave).pass, true);
  const rosterReply = encodeMessage(GROUP, { type: MsgType.RosterReply, proofs: [] });
  assert.equal(admitUnicast('member', null, rosterReply).pass, true, 'M3: the engine takes it only from a peer it asked');
  const rosterRequest = encodeMessage(GROUP, { type: MsgType.RosterRequest, known: [] });
  assert.equal(admitUnicast('member', null, rosterRequest).pass, false, 'M2: only members ask');
});

test('after the engine: a stranger whose control message opened under our TEK is no offence (M2); one whose did not is', () => {
  // Refused as not-member by the engine, but it opened: Ignored, no refusal, no strike.
  assert.deepEqual(judgeVerdict('control', 'opened', 'ignore', true), { result: 'ignore', refused: null });
  // It opened under nothing: refused (a stranger's strike), as when the gate dropped it.
  const closed = judgeVerdict('control', 'opened', 'ignore', false);
  assert.equal(closed.result, 'forbidden');
  assert.match(closed.refused ?? '', /non-member/);
  assert.deepEqual(judgeVerdict('control', 'opened', 'accept', true), { result: 'accept', refused: null });
  assert.deepEqual(judgeVerdict('control', 'opened', 'reject', true), { result: 'reject', refused: null }, 'garbage stays an offence');
  // D1 and the other rows as before.
  assert.deepEqual(judgeVerdict('data', 'opened', 'accept', true), { result: 'accept', refused: null });
  assert.equal(judgeVerdict('data', 'opened', 'accept', false).refused !== null, true);
  assert.deepEqual(judgeVerdict('data', 'opened', 'ignore', false), { result: 'forbidden', refused: null });
  assert.deepEqual(judgeVerdict('data', 'opened', 'ignore', true), { result: 'forbidden', refused: null });
  assert.deepEqual(judgeVerdict('control', 'accepted', 'ignore', false), { result: 'forbidden', refused: null });
  assert.deepEqual(judgeVerdict('control', 'none', 'ignore', false), { result: 'ignore', refused: null });
});
