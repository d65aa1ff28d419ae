// The renderer's per-group feed (renderer/src/feed.ts): history and pushed
// events merge without duplicates, in time order; strokes that arrive while the
// board loads are not lost. The peer side is a small scripted ConclaveClient:
// the store, not the transport, is under test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FeedStore, MAX_NOTICE_ROWS } from '../../renderer/src/feed.js';
import type { ConclaveClient } from '../../renderer/src/client.js';
import type { BoardStroke, ChatMessage } from '../../app/api/contract.js';

const G = '0123456789abcdef0123456789abcdef';
const msg = (id: string, sentAt: number): ChatMessage => ({ id, group: G, sender: 'p', senderName: 'P', text: id, sentAt, receivedAt: sentAt });
const stroke = (id: string): BoardStroke => ({ group: G, sender: 'p', sentAt: 0, stroke: { id, tool: 'pen', color: '#000000', width: 2, points: [{ x: 0, y: 0 }] } });

function scripted(answers: Record<string, () => Promise<unknown>>) {
  const listeners = new Map<string, (p: unknown) => void>();
  const client = {
    transport: 'websocket',
    call: (method: string) => answers[method]!(),
    on: (event: string, l: (p: unknown) => void) => {
      listeners.set(event, l);
      return () => listeners.delete(event);
    },
    onJoinLink: () => () => undefined,
    onLinkState: () => () => undefined,
  } as unknown as ConclaveClient;
  return { client, push: (event: string, payload: unknown) => listeners.get(event)!(payload) };
}

test('history and live messages merge once each, oldest first, with undecryptable placeholders in place', async () => {
  const peer = scripted({ 'chat.history': async () => [msg('a', 1), msg('b', 3)] });
  const store = new FeedStore(peer.client);
  peer.push('chat.message', msg('b', 3)); // arrived live before history loaded
  peer.push('chat.undecryptable', { group: G, sender: 'q', sentAt: 2, receivedAt: 2 });
  await store.loadHistory(G, 2);
  peer.push('chat.message', msg('c', 4));
  peer.push('chat.message', msg('c', 4)); // echo
  const feed = store.get(G);
  assert.deepEqual(
    feed.items.map((i) => (i.kind === 'message' ? i.message.id : 'locked')),
    ['a', 'locked', 'b', 'c'],
  );
  assert.equal(feed.hasMore, true, 'a full page means there may be more');
});

test('strokes pushed while the board loads are applied after its state', async () => {
  let release!: (v: BoardStroke[]) => void;
  const peer = scripted({ 'board.entries': () => new Promise((r) => (release = r)) });
  const store = new FeedStore(peer.client);
  const loading = store.loadBoard(G);
  peer.push('board.entry', stroke('late'));
  release([stroke('early'), stroke('late')]);
  await loading;
  assert.deepEqual(
    store.get(G).board.objects.map((m) => m.id),
    ['early', 'late'],
  );
  peer.push('board.entry', stroke('next'));
  assert.equal(store.get(G).board.objects.length, 3);
});

test('subscribers hear every change and a group they never saw reads as empty', () => {
  const peer = scripted({});
  const store = new FeedStore(peer.client);
  let changes = 0;
  const off = store.subscribe(() => changes++);
  assert.equal(store.get(G).items.length, 0);
  peer.push('chat.message', msg('x', 1));
  off();
  peer.push('chat.message', msg('y', 2));
  assert.equal(changes, 1);
});

const locked = (sender: string, sentAt: number) => ({ group: G, sender, sentAt, receivedAt: sentAt });
type Row = { kind: string; sender?: string; count?: number; sentAt?: number; lastSentAt?: number };

test('undecryptable placeholders: consecutive ones from one sender collapse into one row with a count', () => {
  const peer = scripted({});
  const store = new FeedStore(peer.client);
  for (let i = 0; i < 2000; i++) peer.push('chat.undecryptable', locked('q', 1000 + i));
  const rows = store.get(G).items as Row[];
  assert.equal(rows.length, 1, `2,000 placeholders from one sender: ${rows.length} rows`);
  assert.equal(rows[0]!.count, 2000);
  assert.equal(rows[0]!.sentAt, 1000);
  assert.equal(rows[0]!.lastSentAt, 2999);
  // A message between them splits the run; one before the run's first is merged into it.
  peer.push('chat.message', msg('m', 5000));
  peer.push('chat.undecryptable', locked('q', 6000));
  peer.push('chat.undecryptable', locked('q', 500));
  peer.push('chat.undecryptable', locked('r', 6001));
  const after = store.get(G).items as Row[];
  assert.deepEqual(
    after.map((r) => [r.kind, r.sender ?? '', r.count ?? 0]),
    [
      ['undecryptable', 'q', 2001],
      ['message', '', 0],
      ['undecryptable', 'q', 1],
      ['undecryptable', 'r', 1],
    ],
  );
});

test('undecryptable placeholders: at most 100 rows are kept per group, the newest', () => {
  const peer = scripted({});
  const store = new FeedStore(peer.client);
  // Alternating senders never collapse: the cap alone bounds them.
  for (let i = 0; i < 5000; i++) peer.push('chat.undecryptable', locked(i % 2 === 0 ? 'q' : 'r', 1000 + i));
  const rows = store.get(G).items as Row[];
  assert.ok(rows.length <= 100, `5,000 alternating placeholders: ${rows.length} rows`);
  assert.equal(rows.at(-1)!.sentAt, 5999, 'the newest is kept');
  // Messages are never dropped by the cap.
  peer.push('chat.message', msg('m', 1));
  for (let i = 0; i < 300; i++) peer.push('chat.undecryptable', locked(i % 2 === 0 ? 'q' : 'r', 7000 + i));
  assert.ok((store.get(G).items as Row[]).some((r) => r.kind === 'message'));
});

test('membership notices: at most MAX_NOTICE_ROWS are kept per group, the newest, and no message is dropped', () => {
  const peer = scripted({});
  const store = new FeedStore(peer.client);
  peer.push('chat.message', msg('first', 0));
  for (let i = 0; i < MAX_NOTICE_ROWS + 50; i++) peer.push('group.member', { group: G, peerId: `peer-${i}`, change: i % 3 === 0 ? 'left' : 'joined' });
  peer.push('chat.message', msg('last', Date.now() + 60_000));
  const items = store.get(G).items;
  const notices = items.filter((i) => i.kind === 'notice');
  assert.equal(notices.length, MAX_NOTICE_ROWS);
  assert.deepEqual(
    [notices[0]!.kind === 'notice' && notices[0]!.peerId, notices.at(-1)!.kind === 'notice' && notices.at(-1)!.peerId],
    ['peer-50', `peer-${MAX_NOTICE_ROWS + 49}`],
    'the oldest notices go first',
  );
  assert.deepEqual(items.filter((i) => i.kind === 'message').map((i) => i.kind === 'message' && i.message.id), ['first', 'last']);
});

test('membership notices: a reinstated member gets a line of its own; presence changes get none', () => {
  const peer = scripted({});
  const store = new FeedStore(peer.client);
  peer.push('group.member', { group: G, peerId: 'peer-x', change: 'excluded' });
  peer.push('group.member', { group: G, peerId: 'peer-x', change: 'online' });
  peer.push('group.member', { group: G, peerId: 'peer-x', change: 'reinstated' });
  const changes = store.get(G).items.map((i) => (i.kind === 'notice' ? i.change : i.kind));
  assert.deepEqual(changes, ['excluded', 'reinstated']);
});
