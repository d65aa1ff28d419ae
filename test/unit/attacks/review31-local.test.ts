// Review 31 (local surfaces, red team). 1. The browser mode printed `http://127.0.0.1:PORT/?token=…`, and a
// browser's history keeps every URL it opened. Anyone who could read that history (another
// person at the machine, a program reading the profile) drove the peer with the token for as long
// as it ran: read every group's history, sent as the user, excluded members (review 29 left this
// open). Secure: the printed link carries a single-use launch code that the page trades for the
// token; the URL in the history is spent, and the peer prints a fresh link for another tab. A spent
// code that comes back (two parties held it: the second attacker review raced the page for a link
// read from the browser's command line) replaces the token and signs every tab out.
// 2. One chat message froze every member's UI: the rich-text parse was cubic in the text's length
// ('**x _a_ ' repeated to 16,000 characters, a legal message: about 100 s of blocked main thread on
// every render, and again whenever the group is opened). Secure: a linear parse, once per text.
// 3. A link showed one address and opened another: a right-to-left override around two URLs showed
// https://bank.example/login?next=https://evil.example/ over a link to https://evil.example/.
// Secure: a link ends at any format character, embeddings and overrides are not shown, and the
// link is isolated left-to-right.
// 4. A tab whose peer had stopped kept reconnecting and trusted whoever took the port next: another
// local user accepted its `auth`, received its token and everything the user sent, and fed it
// made-up messages. Secure: challenge-response, the server proving first that it knows the token,
// which never crosses the socket; a server that cannot is refused. The third attacker review: a
// tab that still held an untraded launch code sent it in clear, and a squatter keyed the "proof"
// with it; and one leaked link, sent again after each fresh one, signed the user out each time.
// Now the code is named by its digest and proven both ways; a leaked link signs out once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';
import type { LinkState } from '../../../renderer/src/client.js';
import { serveWeb } from '../../../app/cli/web.js';
import { ApiError, createApiHandler, type PeerMethods } from '../../../app/api/handler.js';
import { ErrorCodes } from '../../../app/api/contract.js';
import { LAUNCH_CODES_KEPT, authProof, serveApi } from '../../../app/api/server.js';
import { wsClient } from '../../../renderer/src/ws-client.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Methods } from '../../../app/api/contract.js';
import { richParts, type RichPart } from '../../../renderer/src/rich-text.js';

function methods(): PeerMethods {
  return new Proxy({} as PeerMethods, {
    get: (_t, name) => {
      if (name === 'status') return () => ({ peerId: '12D3KooWtest', name: 'Tess', groups: 0, version: '0.1.0' });
      return () => {
        throw new ApiError(ErrorCodes.notAllowed, 'not in this test');
      };
    },
  });
}

/** One JSON-RPC exchange on a fresh socket: `auth` with `params`, then `status`; what each answered. */
async function authThenStatus(port: number, params: { token: string } | { launch: string }): Promise<{ auth: { result?: { token?: string }; error?: { code: number } }; status: { result?: unknown; error?: { code: number } } }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api`);
  const replies = new Map<number, unknown>();
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as { id?: number };
    if (typeof msg.id === 'number') replies.set(msg.id, msg);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'auth', params }));
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'status', params: {} }));
  const deadline = Date.now() + 5000;
  while (replies.size < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  ws.close();
  return { auth: replies.get(1) as never, status: replies.get(2) as never };
}

const secretOf = (url: URL): string => url.searchParams.get('launch') ?? url.searchParams.get('token') ?? '';

test('review31: the link a browser opened, read later from its history, gives nobody the API', async () => {
  const printed: string[] = [];
  const { server, url } = await serveWeb(createApiHandler(methods()), { port: 0, root: mkdtempSync(join(tmpdir(), 'conclave-r31-ui-')), say: (line) => printed.push(line) });
  try {
    const opened = new URL(url);
    assert.equal(opened.searchParams.get('token'), null, `the printed link carries the API token: ${url}`);
    // The user's tab: what renderer/src/main.tsx does with a launch link.
    const tabTokens: string[] = [];
    const tab = wsClient({ url: `ws://127.0.0.1:${server.port}/api`, launch: secretOf(opened), onToken: (t) => tabTokens.push(t), WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
    try {
      assert.equal((await tab.call('status', {})).name, 'Tess', 'the tab opened from the link works');
      assert.equal(tabTokens.length, 1, 'the tab received the token for its reloads');
      // Later, someone reads the URL from the browser's history and tries it every way.
      const secret = secretOf(opened);
      const links = (): string[] => [...printed.join('\n').matchAll(/http:\/\/127\.0\.0\.1:\d+\/\?launch=[\w-]+/g)].map((m) => m[0]);
      const asToken = await authThenStatus(server.port, { token: secret });
      assert.equal(asToken.auth.error?.code, ErrorCodes.unauthorized, "the history's URL was accepted as a token");
      assert.equal(asToken.status.error?.code, ErrorCodes.unauthorized, 'a call after it was answered');
      assert.equal((await tab.call('status', {})).name, 'Tess', 'the tab still works');
      // The peer printed a fresh link after the use, good for one more tab, once.
      const fresh = links()[0];
      assert.ok(fresh, `a fresh link was printed: ${printed.join('\n')}`);
      const second = await authThenStatus(server.port, { launch: secretOf(new URL(fresh)) });
      assert.equal(typeof second.auth.result?.token, 'string', 'the fresh link opens a second tab');
      assert.ok(second.status.result, 'the second tab can call');
      // A spent code presented again means two parties held it: the token is replaced, every tab
      // signed out, and the peer warns and prints a new link (the second attacker review: another
      // local user read the link from the browser's command line and traded it before the page).
      const replay = await authThenStatus(server.port, { launch: secret });
      assert.equal(replay.auth.error?.code, ErrorCodes.unauthorized, 'a spent code is refused');
      assert.match(printed.join('\n'), /Warning: a link that was used already was opened again/);
      const again = await authThenStatus(server.port, { token: tabTokens[0]! });
      assert.equal(again.auth.error?.code, ErrorCodes.unauthorized, 'the token handed out before is void');
      const newest = links().at(-1)!;
      const after = await authThenStatus(server.port, { launch: secretOf(new URL(newest)) });
      assert.ok(after.status.result, 'the link printed with the warning works');
      assert.notEqual(after.auth.result?.token, tabTokens[0], 'under a new token');
    } finally {
      tab.close();
    }
  } finally {
    await server.close();
  }
});

test('review31: unused launch codes are bounded; the oldest is dropped first', async () => {
  const server = await serveApi(createApiHandler(methods()), { port: 0, token: 'the-token' });
  try {
    const codes = Array.from({ length: LAUNCH_CODES_KEPT + 2 }, () => server.issueLaunchCode());
    assert.equal((await authThenStatus(server.port, { launch: codes[0]! })).auth.error?.code, ErrorCodes.unauthorized, 'the oldest code was dropped');
    const newest = await authThenStatus(server.port, { launch: codes.at(-1)! });
    assert.equal(newest.auth.result?.token, 'the-token');
    assert.equal((await authThenStatus(server.port, { launch: 'made-up' })).auth.error?.code, ErrorCodes.unauthorized);
  } finally {
    await server.close();
  }
});

/** Runs `richParts(text)` in a child process; null if it has not finished after `ms` (it is then killed). */
function parseElsewhere(text: string, ms: number): number | null {
  const script = fileURLToPath(new URL('./review31-rich-text-worker.ts', import.meta.url));
  const run = spawnSync(process.execPath, ['--import', 'tsx', script], { input: text, timeout: ms, encoding: 'utf8' });
  if (run.error || run.status !== 0) return null;
  return Number(run.stdout);
}

test('review31: a legal 16,000-character message of unclosed emphasis renders at all (it froze the UI for ~100 s)', () => {
  const text = '**x _a_ '.repeat(2000);
  assert.ok(Methods['chat.send'].params.safeParse({ group: '0'.repeat(32), text }).success, 'chat.send takes it');
  // The second attacker review: a link ending in 16,000 dots (the trailing-punctuation regex was
  // quadratic: ~0.4 s a message here, a minute to open a page of 100). 300 of them and 100 of the
  // first kind in one child: about two minutes before, a second or two now.
  const messages = [...Array.from({ length: 300 }, () => `https://a/${'.'.repeat(15_989)}x`), ...Array.from({ length: 100 }, () => text)];
  const parts = parseElsewhere(messages.join('\u0000'), 20_000);
  assert.notEqual(parts, null, 'parsing these messages had not finished after 20 s');
  // What it parses to: each _a_ is italic, and the unclosed ** stay text.
  const small = richParts('**x _a_ **y _b_ ');
  assert.deepEqual(small, [
    { kind: 'text', text: '**x ' },
    { kind: 'italic', parts: [{ kind: 'text', text: 'a' }] },
    { kind: 'text', text: ' **y ' },
    { kind: 'italic', parts: [{ kind: 'text', text: 'b' }] },
    { kind: 'text', text: ' ' },
  ]);
  assert.deepEqual(richParts('_see **this**_ and **_that_**'), [
    { kind: 'italic', parts: [{ kind: 'text', text: 'see ' }, { kind: 'bold', parts: [{ kind: 'text', text: 'this' }] }] },
    { kind: 'text', text: ' and ' },
    { kind: 'bold', parts: [{ kind: 'italic', parts: [{ kind: 'text', text: 'that' }] }] },
  ]);
});

const flatten = (parts: RichPart[]): RichPart[] => parts.flatMap((p) => (p.kind === 'bold' || p.kind === 'italic' ? flatten(p.parts) : [p]));

test('review31: a link never shows an address other than the one it opens (bidi controls)', () => {
  const [RLO, LRE, PDF, CGJ] = ['\u202E', '\u202A', '\u202C', '\u034F'];
  const spoof = `Log in here: ${RLO}${LRE}https://evil.example/${PDF}${CGJ}${LRE}https://bank.example/login?next=${PDF}${PDF}`;
  const parts = flatten(richParts(spoof));
  const linksFound = parts.filter((p): p is Extract<RichPart, { kind: 'link' }> => p.kind === 'link');
  assert.ok(linksFound.length > 0);
  for (const link of linksFound) {
    assert.doesNotMatch(link.text, /\p{Cf}/u, `a link's text carries a format character: ${JSON.stringify(link.text)}`);
    assert.equal(new URL(link.text).host, new URL(link.href).host, 'the shown address is the one opened');
  }
  for (const p of parts) if (p.kind !== 'link') assert.doesNotMatch('text' in p ? p.text : '', /[\u202A-\u202E]/, 'no embedding or override is shown');
  // The second attacker review: a host that does not read as the one opened is shown as opened.
  const shownAs = (text: string) => flatten(richParts(text)).find((p): p is Extract<RichPart, { kind: 'link' }> => p.kind === 'link')!;
  for (const spoof of ['https://accounts.bank.example\u2215login\u2215session.evil.example/?continue=1', 'https://b\u0430nk.example/login', 'https://bank.example@evil.example/']) {
    const link = shownAs(spoof);
    const typedHost = link.text.slice(link.text.indexOf('//') + 2).split(/[/?#]/)[0]!.toLowerCase();
    assert.equal(typedHost, new URL(link.href).host, `shown ${link.text}, opens ${link.href}`);
  }
  assert.equal(shownAs('see https://x.org/a_b?c=1#d.').text, 'https://x.org/a_b?c=1#d', 'an ordinary link is shown as typed');
  // Two addresses with only a zero-width character between them are shown apart.
  const split = richParts('https://bank.example/login?next=\u200Bhttps://evil.example/');
  assert.deepEqual(split.map((p) => p.kind), ['link', 'text', 'link']);
  assert.match((split[1] as { text: string }).text, /^ /, 'a visible space between the two links');
  // Right-to-left text and its isolates are kept.
  assert.deepEqual(richParts('שלום \u2068https://x.org\u2069'), [
    { kind: 'text', text: 'שלום \u2068' },
    { kind: 'link', href: 'https://x.org/', text: 'https://x.org' },
    { kind: 'text', text: '\u2069' },
  ]);
});

/** Another local user's server on `port` (the peer has stopped): it records every frame and answers with `answer`. */
async function squat(port: number, answer: (ws: WebSocket, request: { id: number }) => void): Promise<{ frames: string[]; close(): Promise<void> }> {
  const frames: string[] = [];
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      frames.push(String(data));
      answer(ws, JSON.parse(String(data)) as { id: number });
    });
  });
  await new Promise<void>((r) => http.listen(port, '127.0.0.1', r));
  return {
    frames,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

test('review31: a tab whose peer stopped never trusts, nor hands its token to, whoever takes the port next', async () => {
  const TOKEN = 'the-real-token-of-this-run';
  const real = await serveApi(createApiHandler(methods()), { port: 0, token: TOKEN });
  const port = real.port;
  const tab = wsClient({ url: `ws://127.0.0.1:${port}/api`, token: TOKEN, WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
  const states: LinkState[] = [];
  tab.onLinkState((st) => states.push(st));
  const madeUp: unknown[] = [];
  tab.on('chat.message', (m) => madeUp.push(m));
  try {
    assert.equal((await tab.call('status', {})).name, 'Tess', 'the real peer proves itself and the tab opens');
    await real.close(); // the user stops the peer; the tab stays open, reconnecting
    const opens = states.filter((st) => st === 'open').length;
    // Another local user takes the port and says yes to everything.
    const squatter = await squat(port, (ws, req) => {
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id, result: { ok: true, nonce: 'n'.repeat(22), proof: '0'.repeat(64) } }));
      ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'chat.message', params: { text: 'new invite link: conclave://join/ATTACKER' } }));
    });
    const frames = squatter.frames;
    try {
      const deadline = Date.now() + 10_000;
      while (states.at(-1) !== 'refused' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(states.at(-1), 'refused', `the tab refuses the squatter: ${states.join(' → ')}`);
      assert.equal(states.filter((st) => st === 'open').length, opens, 'never open again');
      assert.ok(frames.length > 0, 'the tab did try');
      assert.ok(!frames.some((f) => f.includes(TOKEN)), 'the token never reached the squatter');
      assert.deepEqual(madeUp, [], 'no made-up event reached the tab');
      await assert.rejects(tab.call('chat.send', { group: '0'.repeat(32), text: 'secret' }));
      assert.ok(!frames.some((f) => f.includes('secret')), 'nothing the user sends reaches it');
    } finally {
      await squatter.close();
    }
  } finally {
    tab.close();
  }
});

test('review31: a squatter gets neither a tab\'s launch code nor its trust; one leaked link signs the user out once', async () => {
  const printed: string[] = [];
  const { server, url } = await serveWeb(createApiHandler(methods()), { port: 0, root: mkdtempSync(join(tmpdir(), 'conclave-r31-ui-')), say: (line) => printed.push(line) });
  const port = server.port;
  const code = new URL(url).searchParams.get('launch')!;
  // The peer stops before the page traded its code; another local user takes the port.
  await server.close();
  const squatter = await squat(port, (ws, data) => {
    const req = data as { id: number; params?: { launch?: string; launchId?: string; challenge?: string } };
    // The best it can do: key a proof with whatever the tab sent (the code itself, before).
    const challenge = req.params?.challenge ?? '';
    const proof = req.params?.launch
      ? createHmac('sha256', req.params.launch).update(`conclave/api-auth/launch\0${challenge}\0`).digest('hex')
      : authProof(req.params?.launchId ?? 'x', 'launch-server', challenge, 'n'.repeat(22));
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id, result: { ok: true, token: 'SQUATTER-TOKEN', nonce: 'n'.repeat(22), proof } }));
  });
  const frames = squatter.frames;
  const stored: string[] = [];
  const states: LinkState[] = [];
  const tab = wsClient({ url: `ws://127.0.0.1:${port}/api`, launch: code, onToken: (t) => stored.push(t), WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
  tab.onLinkState((st) => states.push(st));
  try {
    const deadline = Date.now() + 10_000;
    while (states.at(-1) !== 'refused' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(states.at(-1), 'refused', `the tab refuses the squatter: ${states.join(' → ')}`);
    assert.ok(!states.includes('open'));
    assert.deepEqual(stored, [], "the tab never took the squatter's token");
    assert.ok(frames.length > 0 && !frames.some((f) => f.includes(code)), 'the launch code never reached the squatter');
  } finally {
    tab.close();
    await squatter.close();
  }

  // One leaked link costs one sign-out, however often it is sent again.
  printed.length = 0;
  const live = await serveWeb(createApiHandler(methods()), { port: 0, root: mkdtempSync(join(tmpdir(), 'conclave-r31-ui-')), say: (line) => printed.push(line) });
  try {
    const first = new URL(live.url).searchParams.get('launch')!;
    const links = (): string[] => [...printed.join('\n').matchAll(/\?launch=([\w-]+)/g)].map((m) => m[1]!);
    assert.ok((await authThenStatus(live.server.port, { launch: first })).status.result, 'the link works once');
    assert.ok((await authThenStatus(live.server.port, { launch: first })).auth.error, 'sent again: a sign-out');
    const tabB = await authThenStatus(live.server.port, { launch: links().at(-1)! });
    assert.ok(tabB.status.result, 'a new tab on the link printed with the warning');
    const signOuts = printed.filter((l) => l.startsWith('Warning')).length;
    await authThenStatus(live.server.port, { launch: first }); // the leaked link once more
    assert.equal(printed.filter((l) => l.startsWith('Warning')).length, signOuts, 'no second sign-out');
    assert.ok((await authThenStatus(live.server.port, { token: tabB.auth.result!.token! })).status.result, 'the new tab\'s token still works');
  } finally {
    await live.server.close();
  }
});
