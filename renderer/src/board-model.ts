/**
 * The whiteboard as data: strokes arrive in order (from `board.state`, then
 * `board.stroke` events) and are replayed into what is visible. `clear` empties
 * the board, `undo` removes its `target` stroke (only the sender's own strokes
 * may be undone; others' undo requests for foreign strokes are ignored), `pen`
 * and `erase` add a mark. Replaying is deterministic, so every member that has
 * the same strokes sees the same board.
 */
import type { BoardStroke } from '../../app/api/contract.js';

export interface BoardView {
  /** Visible marks, oldest first (pen and erase). */
  marks: BoardStroke[];
  /** Every stroke id seen, to drop duplicates (own echo, history overlap). */
  seen: Set<string>;
}

export function emptyBoard(): BoardView {
  return { marks: [], seen: new Set() };
}

/** Applies one stroke; returns the same object when it changes nothing. */
export function applyStroke(board: BoardView, s: BoardStroke): BoardView {
  if (board.seen.has(s.stroke.id)) return board;
  const seen = new Set(board.seen);
  seen.add(s.stroke.id);
  switch (s.stroke.tool) {
    case 'clear':
      return { marks: [], seen };
    case 'undo': {
      const target = s.stroke.target;
      const marks = board.marks.filter((m) => !(m.stroke.id === target && m.sender === s.sender));
      return { marks, seen };
    }
    default:
      return { marks: [...board.marks, s], seen };
  }
}

export function replay(strokes: readonly BoardStroke[]): BoardView {
  return strokes.reduce(applyStroke, emptyBoard());
}

/** The newest visible pen/erase mark drawn by `self`, the one "Undo" removes. */
export function lastOwnMark(board: BoardView, self: string): BoardStroke | undefined {
  for (let i = board.marks.length - 1; i >= 0; i--) {
    if (board.marks[i]!.sender === self) return board.marks[i];
  }
  return undefined;
}

/** Logical board size: strokes are in this coordinate space on every screen. */
export const BOARD_WIDTH = 1600;
export const BOARD_HEIGHT = 1000;
