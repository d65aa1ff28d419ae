// Issue 18 §6: "a 'this device cannot decrypt' placeholder appeared for a member's
// board stroke after restarts and a leave". Cause: a board re-share (sealed for
// a newcomer under the TEK of its admission) was kept for catch-up untagged, and
// untagged packets are served to every asker. A member that joined later (the
// share's revision is older than its own: "too old") or that erased the share's
// key since (a leave stepped the TEK; after a restart reconciliation asks from
// the start) got it back, could not open it, and showed the placeholder from the
// sharer. Now a share is tagged with the newcomers it was made for and served to
// them only; a received share is served to nobody.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrafficLog } from '../../app/peer/traffic.js';
import { BoardShare } from '../../app/peer/board-share.js';
import { decodePayload } from '../../app/peer/payload.js';
import { Profile } from '../../app/store/profile.js';
import type { KeptStroke } from '../../app/peer/history.js';

const G = '0123456789abcdef0123456789abcdef';
const ALICE = 'a'.repeat(64);
const BOB = 'b'.repeat(64);
const CAROL = 'c'.repeat(64);

test('a board re-share is served by catch-up only to the newcomers it was made for, across a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-share-'));
  let p = Profile.open(dir);
  let t = new TrafficLog(p, G, 100);
  t.keep({ from: ALICE, bytes: new Uint8Array(40).fill(1), at: 1, tag: { a: ALICE, s: 1, k: 1 } });
  t.keep({ from: ALICE, bytes: new Uint8Array(40).fill(2), at: 2, tag: { a: ALICE, s: 0, k: 1, for: [BOB] } }); // Alice's share for Bob
  t.keep({ from: ALICE, bytes: new Uint8Array(40).fill(3), at: 3, tag: { a: ALICE, s: 0, k: 1, for: [] } }); // a share Alice received
  t.keep({ from: ALICE, bytes: new Uint8Array(40).fill(4), at: 4, tag: null }); // a packet Alice could not read
  const served = (asker: string) => t.select({}, 0, 0, 100, 1e6, asker).items.map((i) => i.bytes[0]);
  assert.deepEqual(served(BOB), [1, 2, 4], 'Bob, the newcomer, gets his share');
  assert.deepEqual(served(CAROL), [1, 4], 'Carol, who joined later, never gets a share she cannot read');
  p.close();
  p = Profile.open(dir);
  t = new TrafficLog(p, G, 100);
  assert.deepEqual(served(CAROL), [1, 4], 'after a restart too');
  assert.deepEqual(served(BOB), [1, 2, 4]);
  p.close();
});

test('the share names the members admitted since the last one', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const sent: string[][] = [];
  const signed = { a: ALICE, s: 1, k: 1, at: 1, id: '0'.repeat(32), b: '{}', sig: '0'.repeat(128) };
  const share = new BoardShare({
    now: () => 0,
    canShare: () => true,
    strokes: () => [{ group: G, sender: 'p', sentAt: 1, mid: 'm', signed } as KeptStroke],
    authorTaken: () => true,
    send: (_payload, newcomers) => void sent.push(newcomers),
    log: () => undefined,
  });
  share.admitted(true, BOB);
  share.admitted(true, CAROL);
  t.mock.timers.tick(10_000);
  share.admitted(true, 'd'.repeat(64));
  t.mock.timers.tick(10_000);
  assert.deepEqual(sent, [[BOB, CAROL], ['d'.repeat(64)]]);
});

test('review 35: a share leaves out items by authors receivers refuse (an excluded member): each read as the sharer\'s misdeed', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const sent: Uint8Array[] = [];
  const item = (a: string, s: number) => ({ a, s, k: 1, at: 1, id: String(s).repeat(32).slice(0, 32), b: '{}', sig: '0'.repeat(128) });
  const excluded = 'e'.repeat(64);
  const share = new BoardShare({
    now: () => 0,
    canShare: () => true,
    strokes: () => [item(ALICE, 1), item(excluded, 2)].map((signed) => ({ group: G, sender: 'p', sentAt: 1, mid: `m${signed.s}`, signed }) as KeptStroke),
    files: () => [item(excluded, 3), item(ALICE, 4)],
    authorTaken: (a) => a !== excluded,
    send: (payload) => void sent.push(payload),
    log: () => undefined,
  });
  share.admitted(true, BOB);
  t.mock.timers.tick(10_000);
  const items = sent.map((p) => decodePayload(p)).flatMap((p) => (p && 'items' in p ? p.items : []));
  assert.deepEqual(items.map((m) => [m.a === ALICE ? 'alice' : 'excluded', m.s]), [['alice', 1], ['alice', 4]]);
});
