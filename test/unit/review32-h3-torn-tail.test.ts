/**
 * Review 32 (h3, crash safety): a torn last line of an append-only log (a kill -9 or
 * a power cut in the middle of a record's write) must cost at most that unacknowledged
 * record, never a record acknowledged after the restart.
 *
 * store/files.ts `AppendLog` opens the log with 'a' and writes `JSON + "\n"` right
 * after whatever is at the end of the file. When the file ends with a torn record (no
 * final newline), the first record appended after the restart is glued onto the torn
 * fragment: one line that does not parse, skipped at the next read. The record was
 * fsynced and acknowledged (a `chat.message` raised, `chat.send` answered, a sequence
 * reservation taken), and is gone after the next restart.
 *
 * The torn write is simulated by truncating the log at every byte offset inside its
 * last record (offset len-1 drops only the newline: the record itself still parses and
 * is shown after the restart, and the next append then destroys it too).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Profile } from '../../app/store/profile.js';
import { GroupHistory } from '../../app/peer/history.js';
import { signMessage, type Body, type SignedMessage } from '../../app/peer/payload.js';
import { signer } from './signers.js';

const G = '5a'.repeat(16);
const alice = signer(31);
const bob = signer(32);
const chat = (text: string): Body => ({ t: 'chat', text, name: 'n' });
const sign = (who: ReturnType<typeof signer>, s: number, body: Body, id: string): SignedMessage => signMessage(G, who, { s, k: 1, at: 1000 + s, id }, body);
const idOf = (n: number) => n.toString(16).padStart(32, '0');
const sink = () => {
  const got: { event: string; payload: unknown }[] = [];
  return { got, emit: (event: string, payload: unknown) => void got.push({ event, payload }) };
};
const historyPath = (dir: string) => join(dir, 'groups', G, 'history.log');

/** Byte offset where the last line of `path` starts, and its length with the newline. */
function lastLine(path: string): { start: number; length: number } {
  const text = readFileSync(path);
  const end = text.length - 1; // the final '\n'
  const start = text.lastIndexOf(0x0a, end - 1) + 1;
  return { start, length: text.length - start };
}

test('store: a record appended (fsynced) after a restart on a torn last line is kept, at every offset of the tear', () => {
  const base = mkdtempSync(join(tmpdir(), 'review32-h3-torn-'));
  try {
    const seedDir = join(base, 'seed');
    const p = Profile.open(seedDir);
    for (let i = 0; i < 3; i++) p.append(G, 'history', { i, pad: 'x'.repeat(40) });
    p.close();
    const { start, length } = lastLine(historyPath(seedDir));
    const failures: string[] = [];
    for (let cut = 0; cut < length; cut++) {
      const dir = join(base, `cut${cut}`);
      // A copy of the profile whose last record was torn `cut` bytes in.
      cpSync(seedDir, dir, { recursive: true });
      truncateSync(historyPath(dir), start + cut);
      // Restart: reads back what is whole, then acknowledges a new record (fsynced).
      const q = Profile.open(dir);
      const before = q.read(G, 'history', (v) => v as { i: number }).records.map((r) => r.i);
      q.append(G, 'history', { i: 100 + cut }, true);
      q.close();
      // Next restart: everything read back before, and the acknowledged record, are there.
      const r = Profile.open(dir);
      const after = r.read(G, 'history', (v) => v as { i: number }).records.map((x) => x.i);
      r.close();
      const expected = [...before, 100 + cut];
      if (JSON.stringify(after) !== JSON.stringify(expected)) failures.push(`cut ${cut}/${length}: read ${JSON.stringify(after)}, expected ${JSON.stringify(expected)}`);
    }
    assert.equal(failures.length, 0, `acknowledged records lost after a torn last line at ${failures.length} of ${length} offsets, e.g.\n${failures.slice(0, 3).join('\n')}`);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('history: a chat message shown after a restart on a torn history log is still there at the next restart', async () => {
  const base = mkdtempSync(join(tmpdir(), 'review32-h3-torn-chat-'));
  try {
    const seedDir = join(base, 'seed');
    let p = Profile.open(seedDir);
    let h = new GroupHistory(p, G, alice.key, sink());
    assert.equal(h.keep(sign(bob, 1, chat('one'), idOf(1)), 'bob', 'Bob', 2001), 'kept');
    assert.equal(h.keep(sign(bob, 2, chat('two: torn by the crash'), idOf(2)), 'bob', 'Bob', 2002), 'kept');
    await h.durable();
    p.close();
    const { start, length } = lastLine(historyPath(seedDir));
    const failures: string[] = [];
    // Every 7th offset and the last one (newline only): each costs a few ms of crypto.
    const cuts = [...Array(length).keys()].filter((c) => c % 7 === 0 || c === length - 1);
    for (const cut of cuts) {
      const dir = join(base, `cut${cut}`);
      cpSync(seedDir, dir, { recursive: true });
      truncateSync(historyPath(dir), start + cut);
      // Restart after the crash; message 3 arrives, is fsynced and shown (acknowledged).
      p = Profile.open(dir);
      const events = sink();
      h = new GroupHistory(p, G, alice.key, events);
      const shownAtRestart = h.chatHistory(10).map((m) => m.text);
      assert.equal(h.keep(sign(bob, 3, chat('three'), idOf(3)), 'bob', 'Bob', 2003), 'kept');
      await h.durable();
      assert.ok(events.got.some((e) => e.event === 'chat.message'), 'message three was acknowledged (chat.message)');
      p.close();
      // Next restart.
      p = Profile.open(dir);
      h = new GroupHistory(p, G, alice.key, sink());
      const held = h.chatHistory(10).map((m) => m.text);
      p.close();
      const expected = [...shownAtRestart, 'three'];
      if (JSON.stringify(held) !== JSON.stringify(expected)) failures.push(`cut ${cut}/${length}: held ${JSON.stringify(held)}, shown before ${JSON.stringify(expected)}`);
    }
    assert.equal(failures.length, 0, `messages shown, then lost, at ${failures.length} of ${cuts.length} offsets, e.g.\n${[failures[0], failures.at(-1)].join('\n')}`);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('history: after a torn tail, the sequence reservation taken at restart survives (no number signed twice after the next kill -9)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'review32-h3-torn-seq-'));
  try {
    // Alice sent 1 and 2, stopped cleanly (reservation released to exactly 2).
    let p = Profile.open(dir);
    let h = new GroupHistory(p, G, alice.key, sink());
    for (const n of [1, 2]) {
      const seq = h.takeOwnSeq();
      assert.equal(seq.s, n);
      h.keep(signMessage(G, alice, { ...seq, k: 1, at: 1000 + n, id: idOf(10 + n) }, chat(`own ${n}`)), 'alice', 'Alice', 1000 + n, [bob.key]);
    }
    await h.durable();
    // A received message of bob's is being written when the process is killed: its line is torn.
    h.keep(sign(bob, 1, chat('b'.repeat(300)), idOf(20)), 'bob', 'Bob', 3000);
    await h.durable();
    h.releaseOwnSeqs();
    p.close();
    // The released reservation ({seq, exact}) is the last line; rebuild the log so that
    // bob's message comes last, torn halfway (the kill -9 came mid-write).
    const text = readFileSync(historyPath(dir));
    const lines = text.toString('utf8').split('\n').filter((l) => l.length > 0);
    const seqLine = lines.pop()!; // {seq upTo 2 exact}
    const bobLine = lines.pop()!;
    writeFileSync(historyPath(dir), [...lines, seqLine, bobLine.slice(0, Math.floor(bobLine.length / 2))].join('\n'));
    // Restart: alice sends number 3: takeOwnSeq reserves on disk (fsynced) before signing.
    p = Profile.open(dir);
    h = new GroupHistory(p, G, alice.key, sink());
    const third = h.takeOwnSeq();
    assert.equal(third.s, 3);
    // Message 3 is signed and published; kill -9 before its history record is written
    // (group.ts afterPublish writes it after the publish reached the socket). Nothing else is written.
    p.close(); // releaseOwnSeqs not called: a kill -9
    // Restart: number 3 went out, so it must never be taken again (or be declared skipped).
    p = Profile.open(dir);
    h = new GroupHistory(p, G, alice.key, sink());
    const next = h.takeOwnSeq();
    p.close();
    assert.ok(next.s > 3 || (next.skip !== undefined && next.skip[0] <= 3 && next.skip[1] >= 3), `after the restart alice takes ${JSON.stringify(next)}: number 3 signed twice (an equivocation every member refuses)`);
    assert.ok(statSync(historyPath(dir)).size > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
