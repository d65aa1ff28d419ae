/**
 * @module peer/board
 * The peer's view of its whiteboard, computed by the one board model the UI
 * also uses (app/api/board-model.ts; docs/protocol.md §13 "The board", docs/
 * ui.md "The whiteboard"): order-independent by construction, so late joiners
 * (catch-up, re-share) and live members converge on the same board.
 *
 * This module only adapts that model to what the peer serves: the strokes still
 * visible, for clients of the stroke-only API (`board.state`), and the signed
 * entries a newcomer needs to rebuild the board (`boardSupport`, re-shared by
 * board-share.ts). A clear reaches only what its author had seen and what is
 * not dated after it (board-model.ts rule 5); an undo counts only from the
 * stroke's author.
 */
import type { BoardEntry, BoardStroke } from '../api/contract.js';
import { boardObjects } from '../api/board-model.js';

export { boardSupport } from '../api/board-model.js';

/** A kept stroke (signed ones carry author, seq and, a clear, what it had seen). */
export type BoardItem = BoardStroke & { author?: string; seq?: number; seen?: Record<string, number> };

/** The object key a pen or erase stroke stands for (board-model.ts rule 1). */
function strokeKey(e: BoardEntry): string {
  return e.author !== undefined && e.seq !== undefined ? `${e.author}/${e.stroke!.id}` : `~${e.sender}/${e.stroke!.id}`;
}

/** The pen and erase strokes still on the board, in paint order (bottom first). */
export function boardState<T extends BoardEntry>(items: Iterable<T>): T[] {
  const all = [...items];
  const order = new Map(boardObjects(all).map((o, i) => [o.key, i] as const));
  const strokes = all.filter((e) => (e.stroke?.tool === 'pen' || e.stroke?.tool === 'erase') && order.has(strokeKey(e)));
  return strokes.sort((a, b) => order.get(strokeKey(a))! - order.get(strokeKey(b))!);
}
