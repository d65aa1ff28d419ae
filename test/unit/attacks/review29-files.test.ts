// Review 29 (insiders, red team): file messages whose chunks nobody serves. An insider publishes
// many small, well-formed, signed file messages (about 700 bytes each) and never serves their
// chunks. Every member made one transfer per message and asked every connected member for each
// every 3 s, for ever: 1,000 such messages and 6 connected members cost one member about 1,900
// stream opens a second. Secure: at most FILE_TRANSFER_BOUNDS.inFlightTotal requests in flight over
// every file, and a member that lacked a file is asked for it again after a back-off that doubles.
// The real Files class runs against a stub libp2p node whose every stream fails (a member that
// does not answer; one that says `unknown-file` is treated alike).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Files } from '../../../app/peer/files.js';
import { fileHandle, FILE_TRANSFER_BOUNDS } from '../../../app/peer/files-chunks.js';
import type { FileBody } from '../../../app/peer/payload.js';
import { signer } from '../signers.js';

const G = '11'.repeat(16);

test('review29: unserved file messages cost a bounded number of requests', async (t) => {
  const self = signer(1);
  const insider = signer(2);
  const others = [3, 4, 5, 6, 7].map((n) => signer(n));
  let opens = 0;
  let inFlight = 0;
  let mostInFlight = 0;
  const conn = {
    status: 'open',
    limits: null,
    newStream: async () => {
      opens++;
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      throw new Error('this member lacks the chunks');
    },
  };
  const node = { getConnections: () => [conn], dialProtocol: async () => { throw new Error('no'); } };
  const members = [self, insider, ...others].map((s) => ({ key: s.key, state: 'member' as const }));
  const files = Array.from({ length: 1000 }, (_, i) => {
    const fid = i.toString(16).padStart(32, '0');
    const body: FileBody = { t: 'file', fid: fileHandle(insider.key, fid), name: `f${i}.bin`, size: 10, mime: 'application/octet-stream', sha256: 'c'.repeat(64), key: 'a'.repeat(64), chunk: 64 * 1024, count: 1, hashes: Buffer.alloc(32, 7).toString('base64') };
    return { body, author: insider.key, chunkFid: fid };
  });
  const rt = {
    group: G,
    engine: { state: () => 'member', members: () => members, rosterState: () => 'member', exclusionContestedUntil: () => null },
    held: { onFile: null as unknown, onFileDeleted: null as unknown, files: () => files },
  };
  const ctx = { node, profile: { dir: mkdtempSync(join(tmpdir(), 'conclave-r29-files-')) }, selfKey: self.key, groups: new Map([[G, rt]]), stopped: () => false, emit: () => undefined, log: () => undefined };
  const f = new Files(ctx as never);
  t.after(() => f.stop());
  f.attach(rt as never);
  f.start();
  await new Promise((r) => setTimeout(r, 7_000));
  assert.ok(mostInFlight <= FILE_TRANSFER_BOUNDS.inFlightTotal, `${mostInFlight} requests in flight at once`);
  // Each (file, member) pair is asked at 0 s, then after 3 s and 6 s more at the earliest: at most 2 in 7 s.
  assert.ok(opens <= files.length * (others.length + 1) * 2, `${opens} requests in 7 s for ${files.length} files`);
});
