/**
 * @module peer/board
 * The whiteboard's state is a pure function of the strokes received: replay them
 * in (sentAt, sender, id) order; 'pen' and 'erase' add a stroke, 'clear' empties
 * the board, 'undo' removes the stroke named by `target` (if it is on the board).
 * Order-independent by construction, so late joiners (catch-up) and live members
 * converge on the same board.
 */
import type { BoardStroke } from '../api/contract.js';

export function boardState<T extends BoardStroke>(strokes: Iterable<T>): T[] {
  const ordered = [...strokes].sort(
    (a, b) => a.sentAt - b.sentAt || (a.sender < b.sender ? -1 : a.sender > b.sender ? 1 : 0) || (a.stroke.id < b.stroke.id ? -1 : a.stroke.id > b.stroke.id ? 1 : 0),
  );
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
