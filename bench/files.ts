/**
 * @module bench/files
 * File transfer between two peers on loopback (issue 18 §1): two headless peers
 * (bin/conclave.js `peer`, each its own process, as bench/catchup.ts), p0 sends
 * a file of `mb` MiB of random bytes through its API (`file.begin`, `file.chunk`,
 * `file.finish`); throughputMBps = size / (time from the file message's return
 * at p0 until p1's `file.status` says `ready`, polled every 50 ms) — the fetch,
 * check and store of every chunk at p1, not the upload into p0. While p1 fetches,
 * p0 sends a chat message every 100 ms; chatP95DuringMs is the 95th percentile of
 * the delay from each `chat.send` call until the message is in p1's history
 * (polled every 20 ms, so up to 20 ms of it is the polling). Run alone:
 * `node --import tsx bench/files.ts [MiB]`; in `npm run bench` as `files`.
 */
import { randomBytes } from 'node:crypto';
import { cleanup, startTestPeer, until, waitMember, type TestPeer } from '../test/integration/harness.js';

export interface FilesResult {
  sizeMB: number;
  throughputMBps: number;
  chatP95DuringMs: number;
  chatSamples: number;
}

const PIECE = 512 * 1024;

async function upload(p: TestPeer, group: string, bytes: Uint8Array): Promise<string> {
  const { upload: id } = await p.api.call<{ upload: string }>('file.begin', { group, name: 'bench.bin', size: bytes.length, mime: 'application/octet-stream' });
  for (let at = 0; at < bytes.length; at += PIECE) await p.api.call('file.chunk', { upload: id, offset: at, data: Buffer.from(bytes.subarray(at, at + PIECE)).toString('base64') });
  const m = await p.api.call<{ file: { id: string } }>('file.finish', { upload: id });
  return m.file.id;
}

function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!;
}

export async function measureFiles(mb: number, log: (s: string) => void = () => {}): Promise<FilesResult> {
  try {
    const p0 = await startTestPeer({ name: 'p0', create: 'files bench', ownSession: true });
    const group = p0.group as string;
    const p1 = await startTestPeer({ name: 'p1', join: p0.invite!, ownSession: true });
    for (const p of [p0, p1]) await waitMember(p, group, 90_000);
    const bytes = new Uint8Array(randomBytes(mb * 1024 * 1024));
    const fid = await upload(p0, group, bytes);
    const t0 = Date.now();
    let fetching = true;
    const delays: number[] = [];
    const chat = (async () => {
      for (let i = 0; fetching; i++) {
        const text = `during ${i}`;
        const s = Date.now();
        await p0.api.call('chat.send', { group, text });
        void until(`p1 to hear ${text}`, async () => (await p1.api.call<{ text: string }[]>('chat.history', { group, limit: 20 })).some((m) => m.text === text), 60_000, 20)
          .then(() => delays.push(Date.now() - s))
          .catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await until('p1 to hold the file', async () => (await p1.api.call<{ state: string }>('file.status', { group, file: fid }).catch(() => ({ state: 'unknown' }))).state === 'ready', 600_000, 50);
    const ms = Date.now() - t0;
    fetching = false;
    await chat;
    await new Promise((r) => setTimeout(r, 1500));
    const result = { sizeMB: mb, throughputMBps: Math.round((mb / (ms / 1000)) * 10) / 10, chatP95DuringMs: p95(delays), chatSamples: delays.length };
    log(`files: ${mb} MiB in ${ms} ms (${result.throughputMBps} MiB/s); chat p95 during it ${result.chatP95DuringMs} ms over ${delays.length} messages`);
    for (const p of [p0, p1]) p.api.close();
    return result;
  } finally {
    await cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mb = Number(process.argv[2] ?? 50);
  measureFiles(mb, console.log).then(
    (r) => console.log(JSON.stringify({ files: r })),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
