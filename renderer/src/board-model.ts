/**
 * The whiteboard as the UI holds it: every board entry this client has seen
 * (from `board.entries`, then `board.entry` events), deduplicated, and the
 * objects they make, computed by the one board model the peer uses too
 * (app/api/board-model.ts). Arrival order does not matter: two screens that
 * hold the same entries draw the same board.
 */
import type { BoardEntry } from '../../app/api/contract.js';
import { boardObjects, entryKey, type BoardObject } from '../../app/api/board-model.js';

export interface BoardView {
  /** Every entry seen, by `entryKey` (own echo and history overlap count once). */
  entries: ReadonlyMap<string, BoardEntry>;
  /** What is on the board, bottom first. */
  objects: BoardObject[];
}

export function emptyBoard(): BoardView {
  return { entries: new Map(), objects: [] };
}

/** Adds entries; returns the same object when none is new. */
export function applyEntries(board: BoardView, entries: readonly BoardEntry[]): BoardView {
  const fresh = entries.filter((e) => !board.entries.has(entryKey(e)));
  if (fresh.length === 0) return board;
  const all = new Map(board.entries);
  for (const e of fresh) all.set(entryKey(e), e);
  return { entries: all, objects: boardObjects(all.values()) };
}

export function replay(entries: readonly BoardEntry[]): BoardView {
  return applyEntries(emptyBoard(), entries);
}

/** The newest object on the board created by `self` (peer ID): what the stroke-era Undo removed. */
export function lastOwnObject(board: BoardView, self: string): BoardObject | undefined {
  let best: BoardObject | undefined;
  for (const o of board.objects) if (o.sender === self && o.by !== null && (!best || o.createdAt >= best.createdAt)) best = o;
  return best;
}

/** Logical board size of the stroke era: the first view shows this area. */
export const BOARD_WIDTH = 1600;
export const BOARD_HEIGHT = 1000;
