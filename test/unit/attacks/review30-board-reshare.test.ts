// Review 30 (insiders): a board re-share brought back deleted objects at a newcomer (review 29
// left it open). A newcomer cannot read what was sent before its admission (the revision steps
// on every join), so it learns the board from re-shares (peer/board-share.ts). The member that
// admitted it re-shared only what is on the board, so any other member could re-share, as their
// authors signed them, the first versions of objects since deleted, undone or cleared, and the
// newcomer drew them: nothing it held said they were gone.
// Secure (docs/protocol.md §13 "The board"): the re-shared support also carries what makes each
// signed object gone (its versions from 2 up to a winner that says `del`, the creator's undo, a
// clear that reaches it), never its first version; so the board the newcomer computes from the
// honest share plus anything else the sharer holds is the sharer's board.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { boardObjects, boardSupport, entryKey, nextVersion, type BoardObject } from '../../../app/api/board-model.js';
import type { BoardEntry, ShapeOp } from '../../../app/api/contract.js';
import { runtimeOfB } from './review29-fixtures.js';
import { currentTek, groupBytes } from './forge.js';
import { signMessage, type Body } from '../../../app/peer/payload.js';
import { nodeCrypto } from '../../../app/crypto/node.js';
import { toHex } from '../../../app/core/bytes.js';

const G = '0123456789abcdef0123456789abcdef';
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const peerOf = (key: string) => `peer-${key[0]}`;
const rect = (id: string, by: string, over: Partial<ShapeOp> = {}): ShapeOp => ({ id, by, v: 1, n: 5, kind: 'rect', x: 10, y: 10, w: 100, h: 50, z: 1, color: '#112233', width: 2, ...over });
const entry = (author: string, seq: number, body: Pick<BoardEntry, 'shape' | 'stroke' | 'seen'>): BoardEntry => ({ group: G, sender: peerOf(author), sentAt: seq * 10, author, seq, ...body });
const pen = (id: string) => ({ id, tool: 'pen' as const, color: '#000000', width: 2, points: [{ x: 1, y: 1 }] });
const drawn = (entries: Iterable<BoardEntry>) => JSON.stringify(boardObjects(entries));

test('review30: a re-share of deleted, undone and cleared objects does not draw them at a newcomer', () => {
  const deleted = entry(A, 1, { shape: rect('r', A) });
  const del = entry(A, 2, { shape: { ...rect('r', A), v: 2, del: true } });
  const ink = entry(B, 1, { stroke: pen('s') });
  const undo = entry(B, 2, { stroke: { ...pen('u'), tool: 'undo', target: 's', points: [] } });
  const cleared = entry(A, 3, { shape: rect('q', A) });
  const clear = { ...entry(C, 1, { stroke: { ...pen('c'), tool: 'clear', points: [] }, seen: { [A]: 3, [B]: 2 } }), sentAt: 35 };
  const kept = entry(A, 4, { shape: rect('k', A, { x: 40 }) });
  const sharer = [deleted, del, ink, undo, cleared, clear, kept];
  assert.equal(drawn(sharer), drawn([kept]), 'the sharer’s board: one rectangle');
  const honestShare = boardSupport(sharer);
  // Another member re-shares the first versions, as their authors signed them.
  const replayed = [deleted, ink, cleared];
  assert.equal(drawn([...honestShare, ...replayed]), drawn(sharer), 'the newcomer draws the sharer’s board');
  for (const first of replayed) assert.ok(!honestShare.includes(first), 'the honest share never carries a gone object’s first version');
});

// Replicas drawing, moving, deleting, clearing and syncing at random, dated in the order written.
type Action = { kind: 'create' | 'move' | 'delete' | 'clear' | 'undo' | 'ink' | 'sync'; who: number; pick: number; nonce: number; dx: number; to: number; share: number };
const action = fc.record({
  kind: fc.constantFrom('create', 'move', 'delete', 'delete', 'clear', 'undo', 'ink', 'sync', 'sync'),
  who: fc.integer({ min: 0, max: 2 }),
  pick: fc.nat(),
  nonce: fc.integer({ min: 0, max: 3 }),
  dx: fc.integer({ min: -50, max: 50 }),
  to: fc.integer({ min: 0, max: 2 }),
  share: fc.double({ min: 0, max: 1, noNaN: true }),
}) as fc.Arbitrary<Action>;

function replicas(actions: Action[]): Map<string, BoardEntry>[] {
  const keys = [A, B, C];
  const out = keys.map(() => new Map<string, BoardEntry>());
  const seqs = [0, 0, 0];
  let ids = 0;
  const write = (who: number, e: Pick<BoardEntry, 'shape' | 'stroke' | 'seen'>) => {
    const x: BoardEntry = { group: G, sender: peerOf(keys[who]!), sentAt: 1000 + ids++, author: keys[who]!, seq: ++seqs[who]!, ...e };
    out[who]!.set(entryKey(x), x);
  };
  for (const a of actions) {
    const mine = out[a.who]!;
    const shown: BoardObject[] = boardObjects(mine.values()).filter((o) => o.by !== null);
    const target = shown.length > 0 ? shown[a.pick % shown.length]! : null;
    if (a.kind === 'create') write(a.who, { shape: rect(`o${ids}`, keys[a.who]!, { n: a.nonce, x: a.dx }) });
    else if (a.kind === 'ink') write(a.who, { stroke: pen(`s${ids}`) });
    else if (a.kind === 'move' && target) write(a.who, { shape: nextVersion(target, { x: target.x + a.dx }, a.nonce) });
    else if (a.kind === 'delete' && target) write(a.who, { shape: nextVersion(target, { del: true }, a.nonce) });
    else if (a.kind === 'undo' && target && target.kind === 'ink' && target.by === keys[a.who] && target.v === 1) write(a.who, { stroke: { ...pen(`u${ids}`), tool: 'undo', target: target.id, points: [] } });
    else if (a.kind === 'clear') {
      const seen: Record<string, number> = {};
      for (const e of mine.values()) if (e.author) seen[e.author] = Math.max(seen[e.author] ?? 0, e.seq!);
      write(a.who, { stroke: { ...pen(`c${ids}`), tool: 'clear', points: [] }, seen });
    } else if (a.kind === 'sync') for (const [k, e] of mine) if ((k.length * 7 + e.seq!) % 10 < a.share * 10) out[a.to]!.set(k, e);
  }
  return out;
}

test('review30 property: the honest share plus any of the sharer’s entries draws the sharer’s board', () => {
  fc.assert(
    fc.property(fc.array(action, { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 2 }), fc.array(fc.boolean(), { minLength: 200, maxLength: 200 }), (actions, sharerIndex, picks) => {
      const sharer = [...replicas(actions)[sharerIndex]!.values()];
      const share = boardSupport(sharer);
      const other = sharer.filter((_, i) => picks[i % picks.length]);
      assert.equal(drawn([...share, ...other]), drawn(sharer));
      assert.equal(drawn([...other, ...share].reverse()), drawn(sharer));
    }),
    { numRuns: 400 },
  );
});

// The file twin (review 4's todo): a file message its author deleted, re-shared by another member
// for a newcomer that cannot read the delete, showed the card and fetched the file from whoever
// still served it. The honest admitter now re-shares the authors' deletes of files beside the live
// files, and a file re-share may carry them.
test('review30: a deleted file re-shared by another member stays deleted at a newcomer', async (t) => {
  const f = runtimeOfB();
  t.after(f.done);
  const { g, rt, seal } = f;
  const file = f.sign('a', { t: 'file', fid: 'f'.repeat(32), name: 'old.png', size: 10, mime: 'image/png', sha256: 'c'.repeat(64), key: 'a'.repeat(64), chunk: 64 * 1024, count: 1, hashes: Buffer.alloc(32, 7).toString('base64') });
  const del = f.sign('a', { t: 'delete', target: file.id });
  // The honest admitter's share: no live file, the author's delete. Then m re-shares the file.
  rt.receive(g.ids.a!.key, 'data', seal('a', { v: 2, t: 'files', items: [del] }));
  rt.receive(g.ids.m!.key, 'data', seal('m', { v: 2, t: 'files', items: [file] }));
  await rt.held.durable();
  assert.equal(rt.held.message(file.id)?.deleted, true, 'shown as deleted');
  assert.equal(rt.held.files().find((x) => x.signed.id === file.id)?.deleted, true, 'never fetched, its chunks dropped');
  // And b, sharing in turn, passes the delete on.
  assert.deepEqual(rt.held.shareableFileDeletes(10).map((m) => m.id), [del.id]);
  assert.deepEqual(rt.held.shareableFiles(10), []);
});

// The second pass (a reviewer attacking the fix): a cleared object came back with honest members
// only, since the share carried the clear that reached the winner and nothing else of the object,
// and the newcomer's winner (from whatever version 1 and others it got) could be one the clear does
// not reach. The share now carries the object's versions from 2 up to the winner too.
const at = (author: string, seq: number, sentAt: number, body: Pick<BoardEntry, 'shape' | 'stroke' | 'seen'>): BoardEntry => ({ group: G, sender: peerOf(author), sentAt, author, seq, ...body });
const clearBy = (seq: number, sentAt: number, seen: Record<string, number>) => at(C, seq, sentAt, { stroke: { ...pen('c'), tool: 'clear', points: [] }, seen });

test('review30: a cleared object stays cleared at a newcomer (clock skew, partial sync, a tie)', () => {
  const cases: { name: string; sharer: BoardEntry[]; replayed: BoardEntry[] }[] = [];
  {
    const v1 = at(A, 1, 100_000, { shape: rect('r', A) }); // A's clock 90 s ahead
    const v2 = at(B, 1, 10_000, { shape: { ...rect('r', A), v: 2, x: 50 } });
    cases.push({ name: 'skew: the clear reaches v2, not v1 dated after it', sharer: [v1, v2, clearBy(1, 20_000, { [A]: 1, [B]: 1 })], replayed: [v1] });
  }
  {
    const v1 = at(A, 1, 10, { shape: rect('r', A) });
    const v2 = at(B, 1, 20, { shape: { ...rect('r', A), v: 2, x: 50 } });
    cases.push({ name: 'the clearer held the move, not the creation', sharer: [v1, v2, clearBy(1, 30, { [B]: 1 })], replayed: [v1] });
  }
  {
    const v1 = at(A, 1, 10, { shape: rect('r', A) });
    const win = at(A, 2, 20, { shape: { ...rect('r', A), v: 2, n: 0, x: 50 } });
    const lose = at(B, 1, 40, { shape: { ...rect('r', A), v: 2, n: 1, x: 90 } });
    cases.push({ name: 'a tie: the clear reaches the winner, not the loser written after it', sharer: [v1, win, lose, clearBy(1, 30, { [A]: 2 })], replayed: [v1, lose] });
  }
  {
    const stroke = at(A, 1, 10, { stroke: pen('r') });
    const shape = at(A, 2, 20, { shape: rect('r', A) });
    const undo = at(A, 3, 30, { stroke: { ...pen('u'), tool: 'undo', target: 'r', points: [] } });
    cases.push({ name: 'a creator’s undo of an ID it gave a stroke and a shape', sharer: [stroke, shape, undo], replayed: [shape] });
  }
  for (const c of cases) {
    assert.equal(drawn(c.sharer), '[]', c.name);
    assert.equal(drawn([...boardSupport(c.sharer), ...c.replayed]), '[]', c.name);
  }
});

const fileBody = (n: number): Body => ({ t: 'file', fid: n.toString(16).padStart(32, '0'), name: `f${n}.png`, size: 10, mime: 'image/png', sha256: 'c'.repeat(64), key: 'a'.repeat(64), chunk: 64 * 1024, count: 1, hashes: Buffer.alloc(32, 7).toString('base64') });

test('review30: a newcomer passes on the file deletes its admitter gave it', async (t) => {
  const f = runtimeOfB();
  t.after(f.done);
  const file = f.sign('a', fileBody(1));
  const del = f.sign('a', { t: 'delete', target: file.id });
  f.rt.receive(f.g.ids.a!.key, 'data', f.seal('a', { v: 2, t: 'files', items: [del] }));
  await f.rt.held.durable();
  assert.deepEqual(f.rt.held.shareableFileDeletes(500).map((m) => m.id), [del.id]);
});

test('review30: one member’s 500 deleted files do not push another author’s delete out of the share', async (t) => {
  const f = runtimeOfB();
  t.after(f.done);
  const { g, rt, seal } = f;
  let s = 0;
  const signM = (body: Body) => {
    const id = g.ids.m!;
    return signMessage(toHex(groupBytes), { key: id.key, sign: (x) => nodeCrypto.ed25519Sign(id.seed, x) }, { s: ++s, k: currentTek(g.e.m!)!.version, at: f.clock + 60_000 }, body);
  };
  const fileA = f.sign('a', fileBody(1));
  const delA = f.sign('a', { t: 'delete', target: fileA.id });
  rt.receive(g.ids.a!.key, 'data', seal('a', { v: 2, t: 'msg', m: fileA }));
  rt.receive(g.ids.a!.key, 'data', seal('a', { v: 2, t: 'msg', m: delA }));
  for (let i = 0; i < 500; i++) {
    const fm = signM(fileBody(1000 + i));
    rt.receive(g.ids.m!.key, 'data', seal('m', { v: 2, t: 'msg', m: fm }));
    rt.receive(g.ids.m!.key, 'data', seal('m', { v: 2, t: 'msg', m: signM({ t: 'delete', target: fm.id }) }));
  }
  await rt.held.durable();
  const shared = rt.held.shareableFileDeletes(500);
  assert.equal(shared.length, 500);
  assert.ok(shared.some((m) => m.id === delA.id), 'a’s delete is still shared');
});
