/**
 * @module peer/history
 * What one group shows its user: the chat messages and whiteboard strokes this
 * member received or sent, kept in the group's append-only history log
 * (`profile.append(group, 'history', …)`, sealed and fsynced per record), and
 * the views built from them (chat history, the board, the unread count).
 *
 * Invariants:
 * - Chat and strokes are deduplicated by (sender, message ID), so live delivery,
 *   re-delivery, catch-up and a re-shared board never show a message twice.
 * - A record is appended (fsynced) to the log before its event reaches clients.
 * - The board is a pure function of the strokes (`board.ts`): order-independent.
 */
import type { BoardStroke, ChatMessage } from '../api/contract.js';
import type { EventSink } from '../api/handler.js';
import type { Profile } from '../store/profile.js';
import { boardState } from './board.js';

type HistoryRecord = { kind: 'chat'; message: ChatMessage } | { kind: 'stroke'; stroke: BoardStroke };

function parseHistory(value: unknown): HistoryRecord | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as { kind?: unknown };
  if (v.kind === 'chat' || v.kind === 'stroke') return value as HistoryRecord;
  return null;
}

/** A stroke as kept: with the message ID that carried it (it travels with re-shared boards). */
export type KeptStroke = BoardStroke & { mid: string };

export class GroupHistory {
  /** (sender, message ID) → message. */
  private readonly chat = new Map<string, ChatMessage>();
  /** (sender, message ID) → stroke. */
  private readonly strokes = new Map<string, KeptStroke>();

  constructor(
    private readonly profile: Profile,
    private readonly group: string,
    private readonly events: EventSink,
  ) {
    const history = profile.read(group, 'history', parseHistory);
    for (const r of history.records) {
      if (r.kind === 'chat') this.chat.set(`${r.message.sender}:${r.message.id}`, r.message);
      else {
        const id = (r as unknown as { id?: string }).id ?? r.stroke.stroke.id;
        this.strokes.set(`${r.stroke.sender}:${id}`, { ...r.stroke, mid: id });
      }
    }
  }

  recordChat(message: ChatMessage): void {
    const key = `${message.sender}:${message.id}`;
    if (this.chat.has(key)) return;
    this.chat.set(key, message);
    this.profile.append(this.group, 'history', { kind: 'chat', message });
    this.events.emit('chat.message', message);
  }

  recordStroke(id: string, stroke: BoardStroke): void {
    const key = `${stroke.sender}:${id}`;
    if (this.strokes.has(key)) return;
    this.strokes.set(key, { ...stroke, mid: id });
    this.profile.append(this.group, 'history', { kind: 'stroke', id, stroke });
    this.events.emit('board.stroke', stroke);
  }

  /** The last `limit` messages, oldest first (by sentAt, then receivedAt, then ID). */
  chatHistory(limit: number): ChatMessage[] {
    const all = [...this.chat.values()].sort((a, b) => a.sentAt - b.sentAt || a.receivedAt - b.receivedAt || (a.id < b.id ? -1 : 1));
    return all.slice(-limit);
  }

  /** The strokes on the board now, with their message IDs (for re-sharing). */
  boardStrokes(): KeptStroke[] {
    return boardState(this.strokes.values());
  }

  board(): BoardStroke[] {
    return this.boardStrokes().map(({ mid: _mid, ...stroke }) => stroke);
  }

  /** Messages from others received after `lastReadAt`. */
  unread(self: string, lastReadAt: number): number {
    let n = 0;
    for (const m of this.chat.values()) if (m.sender !== self && m.receivedAt > lastReadAt) n++;
    return n;
  }
}
