// End to end, in a real browser (issue 18 §1, §3): web-mode peers as real
// processes on loopback, their pages in Chromium. Alice excludes Carol, then sends
// a 5 MB picture and a 50 MB file through the attach button; Bob sees both arrive
// with progress, the picture inline, and the bytes he holds hash to what Alice
// sent; Carol, excluded before, gets neither; Dave, a member who was offline
// while they were sent, gets the picture once back (catch-up, then chunks);
// Erin, who joins by a fresh invite after they were sent (and so cannot read
// anything sealed before her admission), gets the picture too: Alice re-shares
// the group's latest file messages with her, as signed (app/peer/board-share.ts);
// search finds an old message. Screens are saved under test-results/e2e/ (and,
// with UPDATE_SCREENSHOTS=1, under docs/screenshots/).
import '../../app/net/shim.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import type { BrowserContext, Page } from 'playwright-core';
import WebSocket from 'ws';
import { RESULTS, ROOT, apiToken, buildUiFresh, launchChromium, prerequisites, startWebPeer, tempDir, type WebPeer } from './web-peers.js';

const missing = prerequisites();
const WAIT = 180_000;
const UPDATE_DOCS = process.env.UPDATE_SCREENSHOTS === '1';

let dirs: ReturnType<typeof tempDir>;
let context: BrowserContext;
const peers = new Map<string, WebPeer>();
const pages = new Map<string, Page>();

type Rpc = { call(method: string, params: unknown): Promise<unknown>; close(): void };

/** JSON-RPC over the peer's own API socket (the token traded for one of its printed links). */
async function rpc(peer: WebPeer): Promise<Rpc> {
  const url = new URL(peer.url);
  const ws = new WebSocket(`ws://${url.host}/api?token=${await apiToken(peer)}`, { maxPayload: 4 << 20 });
  await new Promise((ok, fail) => ws.once('open', ok).once('error', fail));
  const waiting = new Map<number, [(v: unknown) => void, (e: Error) => void]>();
  let id = 0;
  ws.on('message', (raw) => {
    const reply = JSON.parse(String(raw)) as { id?: number; result?: unknown; error?: { message: string } };
    const w = reply.id === undefined ? undefined : waiting.get(reply.id);
    if (!w) return;
    waiting.delete(reply.id!);
    if (reply.error) w[1](new Error(reply.error.message));
    else w[0](reply.result);
  });
  return {
    call: (method, params) => new Promise((ok, fail) => (waiting.set(++id, [ok, fail]), ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params })))),
    close: () => ws.close(),
  };
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = WAIT): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function shot(p: Page, name: string): Promise<void> {
  const file = join(RESULTS, `${name}.png`);
  await p.bringToFront();
  await p.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
  if (UPDATE_DOCS) copyFileSync(file, join(ROOT, 'docs', 'screenshots', `${name.replace(/^f\d+-/, '')}.png`));
}

/** A PNG of random noise, stored without compression: `w`×`h` RGB, about 3·w·h bytes. */
function noisePng(w: number, h: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = randomBytes((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) rows[y * (w * 3 + 1)] = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w * 3; x += 3) rows[y * (w * 3 + 1) + 1 + x + 2] = 200; // a blue cast, so it reads as a picture
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows, { level: 0 })), chunk('IEND', Buffer.alloc(0))]);
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function readAll(r: Rpc, group: string, file: string, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < size; ) {
    const { data } = (await r.call('file.read', { group, file, offset, length: 512 * 1024 })) as { data: string };
    parts.push(Buffer.from(data, 'base64'));
    offset += parts.at(-1)!.length;
  }
  return Buffer.concat(parts);
}

async function openPage(name: string): Promise<Page> {
  const p = await context.newPage();
  p.on('pageerror', (err) => console.error(`[${name} page] ${err.message}`));
  await p.goto(await peers.get(name)!.nextLink());
  pages.set(name, p);
  return p;
}

before(async () => {
  if (missing) return;
  mkdirSync(RESULTS, { recursive: true });
  dirs = tempDir('conclave-e2e-files-');
  await buildUiFresh();
  for (const name of ['Alice', 'Bob', 'Carol', 'Dave']) peers.set(name, await startWebPeer(name, join(dirs.path, 'profiles')));
  context = await launchChromium(dirs.path, { height: 860 });
});

after(async () => {
  for (const [name, p] of pages) await p.screenshot({ path: join(RESULTS, `zz-files-final-${name.toLowerCase()}.png`) }).catch(() => undefined);
  for (const [name, peer] of peers) writeFileSync(join(RESULTS, `files-peer-${name.toLowerCase()}.log`), peer.output().replace(/(token|launch)=[\w-]+/g, '$1=…'));
  await context?.close().catch(() => undefined);
  await Promise.all([...peers.values()].map((p) => p.stop()));
  dirs?.remove();
});

test('files and pictures between three browsers; an excluded member gets nothing; a member back online gets the picture; search', { skip: missing ?? false, timeout: 900_000 }, async (t) => {
  const api = new Map<string, Rpc>();
  for (const [name, peer] of peers) {
    const r = await rpc(peer);
    await r.call('profile.setName', { name });
    api.set(name, r);
  }
  const A = api.get('Alice')!;
  const { group, invite } = (await A.call('group.create', { name: 'Launch photos' })) as { group: string; invite: string };
  const joined = async (name: string) => ((await api.get(name)!.call('group.list', {})) as { group: string; state: string }[]).find((g) => g.group === group)?.state === 'member';
  for (const name of ['Bob', 'Carol', 'Dave']) {
    await api.get(name)!.call('group.join', { invite });
    await until(`${name} to be admitted`, () => joined(name));
  }
  await A.call('chat.send', { group, text: 'The lighthouse shoot is on Thursday at dawn' });
  for (let i = 0; i < 30; i++) await A.call('chat.send', { group, text: `filler message ${i}` });
  const alice = await openPage('Alice');
  const bob = await openPage('Bob');
  const carol = await openPage('Carol');
  await alice.getByTestId('chat-input').and(alice.locator(':enabled')).waitFor({ timeout: WAIT });

  await t.test('Alice excludes Carol; Dave goes offline', async () => {
    await A.call('group.exclude', { group, peers: [peers.get('Carol')!.peerId] });
    await until('Carol to see her exclusion', async () => ((await api.get('Carol')!.call('group.list', {})) as { state: string }[])[0]?.state === 'excluded');
    api.get('Dave')!.close();
    await peers.get('Dave')!.stop();
  });

  const picture = noisePng(1400, 1200);
  const big = randomBytes(50 * 1024 * 1024);
  const files = join(dirs.path, 'files');
  mkdirSync(files, { recursive: true });
  writeFileSync(join(files, 'harbour.png'), picture);
  writeFileSync(join(files, 'footage.bin'), big);
  assert.ok(picture.length > 5_000_000, `the picture is ${picture.length} bytes`);

  await t.test('Alice attaches a 5 MB picture and a 50 MB file; progress shows while they go', async () => {
    await alice.bringToFront();
    await alice.getByTestId('attach-file').setInputFiles([join(files, 'harbour.png'), join(files, 'footage.bin')]);
    const progress = alice.locator('[data-testid="attachment"][data-state="sending"] [data-testid="attachment-progress"]').first();
    await progress.waitFor({ timeout: WAIT });
    await progress.scrollIntoViewIfNeeded().catch(() => undefined);
    await shot(alice, 'f01-files-sending');
    for (const name of ['harbour.png', 'footage.bin']) await alice.locator(`[data-testid="attachment"][data-name="${name}"][data-state="ready"]`).waitFor({ timeout: WAIT });
  });

  await t.test('Bob sees progress, then both whole: the picture inline, the file as a card; the bytes match', async () => {
    await bob.bringToFront();
    const card = bob.locator('[data-testid="attachment"][data-name="footage.bin"]');
    await card.waitFor({ timeout: WAIT });
    // Progress is either still showing or the file already came (a fast loopback): either way it ends ready.
    if ((await card.getAttribute('data-state')) === 'sending') {
      await bob.locator('[data-testid="attachment"][data-name="footage.bin"] [data-testid="attachment-progress"]').waitFor({ timeout: WAIT });
      await card.scrollIntoViewIfNeeded().catch(() => undefined);
      await shot(bob, 'f02-files-receiving');
    }
    for (const name of ['harbour.png', 'footage.bin']) await bob.locator(`[data-testid="attachment"][data-name="${name}"][data-state="ready"]`).waitFor({ timeout: WAIT });
    await bob.locator('[data-testid="attachment"][data-name="harbour.png"] [data-testid="attachment-image"][data-full="true"]').waitFor({ timeout: WAIT });
    await bob.getByTestId('chat-list').evaluate((el) => void ((el as unknown as { scrollTop: number }).scrollTop = 1e9));
    await shot(bob, 'f03-files-received');
    const B = api.get('Bob')!;
    for (const [name, bytes] of [['harbour.png', picture], ['footage.bin', big]] as const) {
      const el = bob.locator(`[data-testid="attachment"][data-name="${name}"]`);
      assert.equal(Number(await el.getAttribute('data-size')), bytes.length);
      assert.equal(await el.getAttribute('data-sha256'), sha(bytes));
      const got = await readAll(B, group, (await el.getAttribute('data-file-id'))!, bytes.length);
      assert.equal(sha(got), sha(bytes), `${name} arrived intact at Bob`);
    }
  });

  await t.test('Carol, excluded before they were sent, gets neither', async () => {
    await carol.bringToFront();
    await carol.waitForTimeout(2000);
    assert.equal(await carol.locator('[data-testid="attachment"]').count(), 0);
    const history = (await api.get('Carol')!.call('chat.history', { group, limit: 1000 })) as { file?: unknown }[];
    assert.equal(history.filter((m) => m.file).length, 0);
    await shot(carol, 'f04-files-excluded');
  });

  await t.test('Dave, offline while they were sent, gets the picture once back', async () => {
    peers.set('Dave', await startWebPeer('Dave', join(dirs.path, 'profiles')));
    const D = await rpc(peers.get('Dave')!);
    api.set('Dave', D);
    const dave = await openPage('Dave');
    await dave.locator('[data-testid="attachment"][data-name="harbour.png"][data-state="ready"]').waitFor({ timeout: WAIT });
    const id = (await dave.locator('[data-testid="attachment"][data-name="harbour.png"]').getAttribute('data-file-id'))!;
    assert.equal(sha(await readAll(D, group, id, picture.length)), sha(picture));
    await dave.locator('[data-testid="attachment-image"][data-full="true"]').first().waitFor({ timeout: WAIT });
    await dave.getByTestId('chat-list').evaluate((el) => void ((el as unknown as { scrollTop: number }).scrollTop = 1e9));
    await shot(dave, 'f05-files-late-member');
  });

  await t.test('Erin, who joins by a fresh invite after they were sent, gets the picture', async () => {
    const { invite: fresh } = (await A.call('group.invite', { group, uses: 1 })) as { invite: string };
    peers.set('Erin', await startWebPeer('Erin', join(dirs.path, 'profiles')));
    const E = await rpc(peers.get('Erin')!);
    api.set('Erin', E);
    await E.call('profile.setName', { name: 'Erin' });
    await E.call('group.join', { invite: fresh });
    await until('Erin to be admitted', () => joined('Erin'));
    const erin = await openPage('Erin');
    await erin.locator('[data-testid="attachment"][data-name="harbour.png"][data-state="ready"]').waitFor({ timeout: WAIT });
    const id = (await erin.locator('[data-testid="attachment"][data-name="harbour.png"]').getAttribute('data-file-id'))!;
    assert.equal(sha(await readAll(E, group, id, picture.length)), sha(picture), 'the picture arrived intact at Erin');
    await erin.locator('[data-testid="attachment-image"][data-full="true"]').first().waitFor({ timeout: WAIT });
    const history = (await E.call('chat.history', { group, limit: 1000 })) as { text: string }[];
    assert.ok(!history.some((m) => m.text.includes('lighthouse')), 'chat text from before her admission is not re-shared');
    await erin.getByTestId('chat-list').evaluate((el) => void ((el as unknown as { scrollTop: number }).scrollTop = 1e9));
    await shot(erin, 'f07-files-late-joiner');
  });

  await t.test('search finds an old message and shows it', async () => {
    await bob.bringToFront();
    await bob.getByTestId('search-input').fill('lighthouse dawn');
    const result = bob.getByTestId('search-result');
    await result.first().waitFor({ timeout: WAIT });
    assert.equal(await result.count(), 1);
    assert.match((await result.first().textContent())!, /lighthouse shoot/);
    await shot(bob, 'f06-search');
    await result.first().click();
    await bob.locator('[data-testid="chat-message"]', { hasText: 'The lighthouse shoot' }).waitFor({ timeout: WAIT });
  });
  for (const r of api.values()) r.close();
});
