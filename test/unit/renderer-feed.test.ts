// The renderer's per-group feed (renderer/src/feed.ts): history and pushed
// events merge without duplicates, in time order; strokes that arrive while the
// board loads are not lost. The peer side is a small scripted ConclaveClient:
// the store, not the transport, is under test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FeedStore } from '../../renderer/src/feed.js';
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
