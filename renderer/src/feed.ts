/**
 * Per-group chat and board state held outside React, fed by the peer's pushed
 * events from the moment the app connects (so nothing is missed while a tab is
 * hidden). Components read it through `useFeed` (useSyncExternalStore); every
 * change replaces the group's arrays, so React sees new references.
 *
 * Invariant: "cannot decrypt" placeholders stay bounded for a session of any
 * length (the peer caps them per minute, app/peer/event-limit.ts; this caps what
 * the UI keeps): consecutive ones from one sender (no other item between them in
 * time order) are one row with a count and the span of their send times, and at
 * most MAX_PLACEHOLDER_ROWS rows are kept per group, the newest (`withPlaceholder`).
 * Membership notices likewise: at most MAX_NOTICE_ROWS per group, the newest (a large
 * group's joins and exclusions would otherwise pile up for the whole session; they are
 * not history, the key panel and the member list keep the state). Messages are never
 * dropped by it.
 */
import { useSyncExternalStore } from 'react';
import type { BoardEntry, ChatMessage, EventPayload } from '../../app/api/contract.js';
import { applyEntries, emptyBoard, replay, type BoardView } from './board-model.js';
import type { ConclaveClient } from './client.js';

/** Membership changes the chat shows as a line of its own. */
export type NoticeChange = 'joined' | 'left' | 'excluded' | 'reinstated';

export type ChatItem =
  | { kind: 'message'; key: string; at: number; message: ChatMessage }
  /** `count` placeholders from `sender` in a row, sent from `sentAt` to `lastSentAt`. */
  | { kind: 'undecryptable'; key: string; at: number; sender: string; sentAt: number; lastSentAt: number; receivedAt: number; count: number }
  /** A member joined, left or was excluded, seen while this client was connected (issue 18 §7). */
  | { kind: 'notice'; key: string; at: number; peerId: string; change: NoticeChange };

export interface GroupFeed {
  items: ChatItem[];
  /** How many messages history was asked for; `hasMore` when it returned that many. */
  historyLimit: number;
  hasMore: boolean;
  historyLoaded: boolean;
  board: BoardView;
  boardLoaded: boolean;
}

const EMPTY: GroupFeed = { items: [], historyLimit: 0, hasMore: false, historyLoaded: false, board: emptyBoard(), boardLoaded: false };
export const PAGE = 100;
/** The most "cannot decrypt" rows one group keeps (each may stand for many placeholders). */
export const MAX_PLACEHOLDER_ROWS = 100;
/** The most membership notices (joined, left, excluded) one group keeps. */
export const MAX_NOTICE_ROWS = 200;

type Placeholder = Extract<ChatItem, { kind: 'undecryptable' }>;

/**
 * `items` (in time order) with placeholder `u` added: merged into the row of its
 * sender it lands next to, if any, else a new row keyed `key()`; then the oldest
 * placeholder rows beyond MAX_PLACEHOLDER_ROWS go.
 */
export function withPlaceholder(items: readonly ChatItem[], u: EventPayload<'chat.undecryptable'>, key: () => string): ChatItem[] {
  let at = items.length;
  while (at > 0 && items[at - 1]!.at > u.sentAt) at--; // after items of equal time, as a stable sort puts it
  const out = [...items];
  const sameSender = (i: ChatItem | undefined): i is Placeholder => i?.kind === 'undecryptable' && i.sender === u.sender;
  const before = out[at - 1];
  const after = out[at];
  if (sameSender(before)) out[at - 1] = { ...before, count: before.count + 1, lastSentAt: Math.max(before.lastSentAt, u.sentAt), receivedAt: Math.max(before.receivedAt, u.receivedAt) };
  else if (sameSender(after)) out[at] = { ...after, at: u.sentAt, sentAt: u.sentAt, count: after.count + 1, receivedAt: Math.max(after.receivedAt, u.receivedAt) };
  else out.splice(at, 0, { kind: 'undecryptable', key: key(), at: u.sentAt, sender: u.sender, sentAt: u.sentAt, lastSentAt: u.sentAt, receivedAt: u.receivedAt, count: 1 });
  return keepNewest(out, 'undecryptable', MAX_PLACEHOLDER_ROWS);
}

/** `items` (in time order) without the oldest items of `kind` beyond `max`. */
function keepNewest(items: ChatItem[], kind: ChatItem['kind'], max: number): ChatItem[] {
  let excess = items.filter((i) => i.kind === kind).length - max;
  if (excess <= 0) return items;
  return items.filter((i) => i.kind !== kind || excess-- <= 0);
}

function byTime(a: ChatItem, b: ChatItem): number {
  return a.at - b.at;
}

export class FeedStore {
  private readonly groups = new Map<string, GroupFeed>();
  private readonly listeners = new Set<() => void>();
  private readonly pendingEntries = new Map<string, BoardEntry[]>();
  private undecryptableSeq = 0;

  constructor(private readonly client: ConclaveClient) {
    client.on('chat.message', (m) => this.addMessages(m.group, [m]));
    client.on('chat.update', (m) => this.updateMessage(m));
    client.on('chat.undecryptable', (u) => this.addUndecryptable(u));
    client.on('group.member', (e) => {
      if (e.change !== 'online' && e.change !== 'offline') this.addNotice(e.group, e.peerId, e.change);
    });
    client.on('board.entry', (e) => this.addEntry(e));
  }

  get(group: string): GroupFeed {
    return this.groups.get(group) ?? EMPTY;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private set(group: string, next: GroupFeed) {
    this.groups.set(group, next);
    for (const l of [...this.listeners]) l();
  }

  addMessages(group: string, messages: ChatMessage[]) {
    const feed = this.get(group);
    const known = new Set(feed.items.map((i) => i.key));
    const fresh = messages.filter((m) => !known.has(`m:${m.id}`));
    if (fresh.length === 0) return;
    const items = [...feed.items, ...fresh.map((m): ChatItem => ({ kind: 'message', key: `m:${m.id}`, at: m.sentAt, message: m }))].sort(byTime);
    this.set(group, { ...feed, items });
  }

  /** A message shown before, changed (reaction, edit, delete, its parent arrived): replaced in place. */
  updateMessage(m: ChatMessage) {
    const feed = this.get(m.group);
    const key = `m:${m.id}`;
    if (!feed.items.some((i) => i.key === key)) return this.addMessages(m.group, [m]);
    this.set(m.group, { ...feed, items: feed.items.map((i) => (i.key === key ? { ...i, message: m } : i)) });
  }

  private addNotice(group: string, peerId: string, change: NoticeChange) {
    const feed = this.get(group);
    const at = Date.now();
    const item: ChatItem = { kind: 'notice', key: `n:${++this.undecryptableSeq}`, at, peerId, change };
    this.set(group, { ...feed, items: keepNewest([...feed.items, item].sort(byTime), 'notice', MAX_NOTICE_ROWS) });
  }

  private addUndecryptable(u: EventPayload<'chat.undecryptable'>) {
    const feed = this.get(u.group);
    this.set(u.group, { ...feed, items: withPlaceholder(feed.items, u, () => `u:${++this.undecryptableSeq}`) });
  }

  async loadHistory(group: string, limit: number): Promise<void> {
    const history = await this.client.call('chat.history', { group, limit });
    const feed = this.get(group);
    const historyKeys = new Set(history.map((m) => `m:${m.id}`));
    const kept = feed.items.filter((i) => !historyKeys.has(i.key));
    const items = [...kept, ...history.map((m): ChatItem => ({ kind: 'message', key: `m:${m.id}`, at: m.sentAt, message: m }))].sort(byTime);
    this.set(group, { ...feed, items, historyLimit: limit, hasMore: history.length >= limit, historyLoaded: true });
  }

  private addEntry(e: BoardEntry) {
    const feed = this.get(e.group);
    if (!feed.boardLoaded) {
      const queued = this.pendingEntries.get(e.group) ?? [];
      queued.push(e);
      this.pendingEntries.set(e.group, queued);
      return;
    }
    const board = applyEntries(feed.board, [e]);
    if (board !== feed.board) this.set(e.group, { ...feed, board });
  }

  /** Loads everything kept on the board; entries pushed meanwhile are applied too (order does not matter). */
  async loadBoard(group: string): Promise<void> {
    const entries = await this.client.call('board.entries', { group });
    const board = replay([...entries, ...(this.pendingEntries.get(group) ?? [])]);
    this.pendingEntries.delete(group);
    this.set(group, { ...this.get(group), board, boardLoaded: true });
  }
}

export function useFeed(store: FeedStore, group: string): GroupFeed {
  return useSyncExternalStore(store.subscribe, () => store.get(group));
}
