/**
 * @module peer/board
 * The whiteboard's state is a pure function of the strokes received
 * (docs/protocol.md §13 "The board"), order-independent by construction, so late
 * joiners (catch-up) and live members converge on the same board.
 *
 * Signed strokes (they carry their author and per-author sequence number): a
 * 'pen' or 'erase' stroke is on the board unless a 'clear' whose author had seen
 * it removes it (the clear's `seen` names, per author, the last number its author
 * held: it removes exactly the strokes with a number at or below) or an 'undo'
 * names its stroke ID. No clock is compared, so a time from the future wins
 * nothing: a clear cannot reach a stroke its author never saw.
 *
 * Unsigned strokes (kept from profiles older than signing): replayed in
 * (sentAt, sender, id) order as before ('clear' empties, 'undo' removes its
 * target if on the board); a signed clear also removes the unsigned strokes sent
 * before it.
 */
import type { BoardStroke } from '../api/contract.js';

export type BoardItem = BoardStroke & { author?: string; seq?: number; seen?: Record<string, number> };

const order = (a: BoardStroke, b: BoardStroke): number =>
  a.sentAt - b.sentAt || (a.sender < b.sender ? -1 : a.sender > b.sender ? 1 : 0) || (a.stroke.id < b.stroke.id ? -1 : a.stroke.id > b.stroke.id ? 1 : 0);

function legacyBoard<T extends BoardItem>(ordered: T[]): T[] {
  let board: T[] = [];
  for (const item of ordered) {
    switch (item.stroke.tool) {
      case 'pen':
      case 'erase':
        board.push(item);
        break;
      case 'clear':
        board = [];
        break;
      case 'undo':
        board = board.filter((s) => s.stroke.id !== item.stroke.target);
        break;
    }
  }
  return board;
}

export function boardState<T extends BoardItem>(strokes: Iterable<T>): T[] {
  const ordered = [...strokes].sort(order);
  const signed = ordered.filter((s) => s.seq !== undefined && s.author !== undefined);
  const clears = signed.filter((s) => s.stroke.tool === 'clear');
  const undone = new Set(signed.filter((s) => s.stroke.tool === 'undo' && s.stroke.target !== undefined).map((s) => s.stroke.target!));
  const lastSignedClearAt = clears.reduce((t, c) => Math.max(t, c.sentAt), -Infinity);
  const legacy = legacyBoard(ordered.filter((s) => s.seq === undefined || s.author === undefined)).filter((s) => s.sentAt > lastSignedClearAt && !undone.has(s.stroke.id));
  const cleared = (s: T): boolean => clears.some((c) => (c.seen?.[s.author!] ?? 0) >= s.seq!);
  const drawn = signed.filter((s) => (s.stroke.tool === 'pen' || s.stroke.tool === 'erase') && !undone.has(s.stroke.id) && !cleared(s));
  return [...legacy, ...drawn].sort(order);
}
