// The key panel's live log, "watch it refuse" (issue 14 §7): a real engine refuses
// a forged input, the peer's view (app/peer/key-panel.ts) carries the refusal with
// its sender's peer ID, and the renderer's log (renderer/src/key-log.ts) shows it
// with reason, sender and count — a flood being one line, not thousands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { GroupEngine } from '../../app/core/engine.js';
import type { EngineEvent } from '../../app/core/types.js';
import { nobleCrypto } from '../../app/crypto/noble.js';
import { defaultParams } from '../../app/peer/params.js';
import { ADMISSION_NEWS_MS, keysTableResult, MAX_REJECTION_KINDS, RejectionLog } from '../../app/peer/key-panel.js';
import { KeysTable, type Member } from '../../app/api/contract.js';
import { keyLogLines, keyNames, MAX_REJECTION_LINES, reasonText } from '../../renderer/src/key-log.js';

type Rejected = Extract<EngineEvent, { type: 'rejected' }>;

const hexKey = () => Buffer.from(randomBytes(32)).toString('hex');
const libp2pPeerId = (hex: string) => peerIdFromPublicKey(publicKeyFromRaw(new Uint8Array(Buffer.from(hex, 'hex')))).toString();
const rejected = (from: string, reason: Rejected['reason'], at: number, detail = 'forged'): Rejected => ({ type: 'rejected', from, reason, detail, at });

function member(key: string, name: string, self = false): Member {
  return { peerId: libp2pPeerId(key), key, name, participantId: [0, 0], role: 'member', online: true, self, state: 'member' };
}

test('a flood of refusals is one aggregate per (reason, sender), with a count and the latest detail', () => {
  const log = new RejectionLog();
  const mallory = hexKey();
  const eve = hexKey();
  for (let i = 0; i < 10_000; i++) log.note(rejected(mallory, 'bad-signature', 1000 + i, `copy ${i}`));
  log.note(rejected(eve, 'not-member', 5000));
  log.note(rejected(mallory, 'replay', 6000));
  const list = log.list();
  assert.equal(list.length, 3);
  assert.deepEqual(
    list.map((r) => [r.reason, r.from === mallory ? 'mallory' : 'eve', r.count]),
    [
      ['replay', 'mallory', 1],
      ['not-member', 'eve', 1],
      ['bad-signature', 'mallory', 10_000],
    ],
  );
  const flood = list[2]!;
  assert.equal(flood.firstAt, 1000);
  assert.equal(flood.lastAt, 10_999);
  assert.equal(flood.detail, 'copy 9999');
});

test('the aggregates are bounded: a sybil flood evicts the least recently heard', () => {
  const log = new RejectionLog();
  const first = hexKey();
  log.note(rejected(first, 'not-member', 0));
  for (let i = 1; i <= MAX_REJECTION_KINDS; i++) log.note(rejected(hexKey(), 'not-member', i, 'x'.repeat(10_000)));
  const list = log.list();
  assert.equal(list.length, MAX_REJECTION_KINDS);
  assert.ok(!list.some((r) => r.from === first), 'the oldest sender was evicted');
  assert.ok(list.every((r) => r.detail.length <= 160), 'details from remote input are cut');
});

test('a real engine refuses a forged input; the panel shows the refusal with reason and sender', () => {
  const now = 1_700_000_000_000;
  const engine = GroupEngine.create(
    { crypto: nobleCrypto, rng: (n) => new Uint8Array(randomBytes(n)) },
    { seed: new Uint8Array(randomBytes(32)), name: 'Alice' },
    { name: 'test', params: defaultParams({ exclude: 'any-member' }), now },
  );
  const self = engine.keyTable(now).self;
  const mallory = hexKey();
  // Garbage on the control topic from a key that is not in the group.
  engine.receive(mallory, 'control', new Uint8Array([0xff, 0x00, 0x13, 0x37]), now + 10);
  const rejections = new RejectionLog();
  for (let ev = engine.pollEvent(); ev; ev = engine.pollEvent()) if (ev.type === 'rejected') rejections.note(ev);
  const refused = rejections.list();
  assert.equal(refused.length, 1, 'the engine refused the forged input');
  assert.equal(refused[0]!.from, mallory);

  const table = KeysTable.parse(keysTableResult(engine.keyTable(now + 20), refused, libp2pPeerId));
  // The peer names every key it sends, as libp2p spells it.
  assert.equal(table.peerIds[self], libp2pPeerId(self));
  assert.equal(table.peerIds[mallory], libp2pPeerId(mallory));
  for (const s of table.slots) if (s.owner) assert.equal(table.peerIds[s.owner], libp2pPeerId(s.owner));

  const names = keyNames(table, [member(self, 'Alice', true)]);
  const lines = keyLogLines(table, names);
  const line = lines[0]!;
  assert.ok('count' in line, 'the newest line is the refusal');
  assert.equal(line.kind, 'rejected');
  assert.equal(line.reason, refused[0]!.reason);
  assert.equal(line.fromPeerId, libp2pPeerId(mallory));
  assert.equal(line.count, 1);
  assert.match(line.text, new RegExp(`^refused from ${line.fromName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${reasonText(line.reason)}$`));
  assert.ok(lines.some((l) => l.kind === 'create'), "the engine's own log is still there");
});

test('names: you, members by key, others by short peer ID; key prefixes in log texts become names', () => {
  const self = hexKey();
  const bob = hexKey();
  const stranger = hexKey();
  const table = { self, peerIds: { [self]: libp2pPeerId(self), [stranger]: libp2pPeerId(stranger) } };
  const names = keyNames(table, [member(self, 'Alice', true), member(bob, 'Bob')]);
  assert.equal(names.nameOf(self), 'you');
  assert.equal(names.nameOf(bob), 'Bob');
  assert.equal(names.nameOf(null), 'nobody');
  assert.equal(names.nameOf(stranger), `${libp2pPeerId(stranger).slice(0, 6)}…${libp2pPeerId(stranger).slice(-4)}`);
  assert.equal(names.peerIdOf(bob), libp2pPeerId(bob), 'a member key the table did not name is found among members');
  assert.equal(names.humanize(`${bob.slice(0, 8)} excluded ${stranger.slice(0, 8)}`), `Bob excluded ${stranger.slice(0, 8)}`);
  assert.equal(names.humanize(`admitted Bob (${bob.slice(0, 8)})`), 'admitted Bob');
  assert.equal(names.humanize(`${self.slice(0, 8)}'s table`), 'your table');
});

test('the log is newest first, and shows at most a dozen refusal lines', () => {
  const self = hexKey();
  const senders = Array.from({ length: 20 }, hexKey);
  const table = {
    self,
    peerIds: {},
    log: [
      { at: 100, kind: 'create', text: 'created the group' },
      { at: 300, kind: 'join', text: 'admitted Bob' },
    ],
    rejections: senders.map((from, i) => ({ reason: 'not-member', from, count: 1, firstAt: 200 + i, lastAt: 200 + i, detail: '' })),
  };
  const lines = keyLogLines(table, keyNames(table, []));
  assert.equal(lines.filter((l) => l.kind === 'rejected').length, MAX_REJECTION_LINES);
  assert.deepEqual(
    lines.map((l) => l.at),
    [...lines.map((l) => l.at)].sort((a, b) => b - a),
  );
  assert.equal(lines[0]!.kind, 'join');
  assert.equal(lines.at(-1)!.kind, 'create');
});

test("late, repeated and early inputs are marked expected and read 'ignored'; attempts stay 'refused'", () => {
  const alice = hexKey();
  const carol = hexKey();
  const erin = hexKey();
  const mallory = hexKey();
  const roster: Record<string, { state: 'member' | 'left' | 'excluded'; admittedAt: number | null }> = {
    [alice]: { state: 'member', admittedAt: 0 },
    [carol]: { state: 'member', admittedAt: 115 },
    [erin]: { state: 'excluded', admittedAt: 125 },
  };
  const log = new RejectionLog((k) => roster[k] ?? null);
  log.note(rejected(alice, 'stale', 100, 'data under TEK v1 revision 1, older than any kept here'));
  log.note(rejected(alice, 'replay', 110, 'heartbeat not newer than the last one from this sender'));
  log.note(rejected(carol, 'not-member', 120, 'heartbeat from a peer that is not a member'));
  log.note(rejected(erin, 'not-member', 130, 'heartbeat from a peer that is not a member'));
  log.note(rejected(mallory, 'not-member', 130, 'heartbeat from a peer that is not a member'));
  log.note(rejected(mallory, 'stale', 135, 'data under TEK v1 revision 0, older than any kept here'));
  log.note(rejected(mallory, 'bad-signature', 140));
  log.note(rejected(alice, 'not-member', ADMISSION_NEWS_MS + 1, 'catch-up request from a peer that is not a member'));
  const list = log.list();
  const mark = (from: string, reason: string) => list.find((r) => r.from === from && r.reason === reason)?.expected;
  assert.equal(mark(alice, 'stale'), 'out-of-date');
  assert.equal(mark(alice, 'replay'), 'repeat');
  assert.equal(mark(carol, 'not-member'), 'before-admission', 'carol\'s heartbeat came 5 ms after her admission, before its news');
  assert.equal(mark(erin, 'not-member'), 'before-admission', 'so did erin\'s: her exclusion since does not make it an attempt');
  assert.equal(mark(alice, 'not-member'), undefined, 'long after alice\'s admission a non-member\'s input is no race');
  assert.equal(mark(mallory, 'not-member'), undefined, 'mallory is in no roster: still a refusal worth a look');
  assert.equal(mark(mallory, 'stale'), undefined, 'nor is anything of hers out of date: she never held a key here');
  assert.equal(mark(mallory, 'bad-signature'), undefined);
  assert.equal(new RejectionLog().list().length, 0);
  const unknownRoster = new RejectionLog();
  unknownRoster.note(rejected(alice, 'stale', 100));
  assert.equal(unknownRoster.list()[0]!.expected, undefined, 'without a roster nothing is expected');

  // A stranger probing before its invite stays red once it is admitted.
  const late = { state: 'member' as const, admittedAt: 10_000 };
  const probe = new RejectionLog((k) => (k === mallory ? late : null));
  probe.note(rejected(mallory, 'not-member', 1_000, 'data from a peer that is not a member'));
  probe.note(rejected(mallory, 'not-member', 10_050, 'heartbeat from a peer that is not a member'));
  assert.equal(probe.list()[0]!.expected, undefined, 'its probes came before its admission: the count stays a refusal');
  const self = hexKey();
  const table = KeysTable.parse({ group: 'ab'.repeat(16), W: 2, V: 2, self, selfId: [0, 0], tek: null, slots: [], blocklist: [], log: [], rejections: list, peerIds: {} });
  const lines = keyLogLines(table, keyNames(table, [member(self, 'Dave', true), member(alice, 'Alice'), member(carol, 'Carol')]));
  const text = (from: string, reason: string) => lines.find((l) => 'count' in l && l.from === from && l.reason === reason)!.text;
  assert.equal(text(alice, 'stale'), 'ignored from Alice: out of date here (an earlier key revision, or a step already past)');
  assert.equal(text(alice, 'replay'), 'ignored from Alice: a repeat of what was already taken');
  assert.equal(text(carol, 'not-member'), 'ignored from Carol: sent before their admission reached you');
  assert.match(text(mallory, 'bad-signature'), /^refused from .+: bad signature$/);
  assert.match(text(mallory, 'not-member'), /^refused from .+: sender is not a member$/);
});

test('ignored lines never crowd refusals out: neither of the peer\'s aggregates nor of the dozen lines shown', () => {
  const mallory = hexKey();
  const log = new RejectionLog((k) => (k === mallory ? null : { state: 'member', admittedAt: 0 }));
  log.note(rejected(mallory, 'bad-signature', 0));
  // A newcomer's first minute: late copies from many members, every one newer than the forgery.
  for (let i = 1; i <= MAX_REJECTION_KINDS + 5; i++) log.note(rejected(hexKey(), 'stale', i));
  const list = log.list();
  assert.equal(list.length, MAX_REJECTION_KINDS);
  assert.ok(list.some((r) => r.from === mallory), 'the forgery is kept, late copies were evicted first');
  const self = hexKey();
  const table = { self, peerIds: {}, log: [], rejections: list };
  const lines = keyLogLines(table, keyNames(table, []));
  const shown = lines.filter((l) => 'count' in l);
  assert.equal(shown.length, MAX_REJECTION_LINES);
  assert.ok(shown.some((l) => 'count' in l && l.from === mallory && l.expected === undefined), 'the refusal is among the lines shown though it is the oldest');
});
