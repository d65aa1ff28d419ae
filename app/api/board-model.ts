/**
 * @module api/board-model
 * The whiteboard as a pure function of what is kept on it (issue 18 §4; docs/ui.md
 * "The whiteboard"; docs/protocol.md §13 "The board"). The peer (history,
 * re-share) and the UI (what is drawn) both call `boardObjects`, so two screens
 * holding the same entries draw the same board, whatever order they arrived in.
 * No clock, no randomness, no I/O.
 *
 * Entries (contract `BoardEntry`) are legacy strokes (pen, erase, clear, undo)
 * or object versions (`shape`). Signed entries carry author and sequence number.
 *
 * Rules (the one conflict rule, modelled on Excalidraw's version + versionNonce):
 * 1. An object is named by its creator and its ID (`by/id`): a signed pen or
 *    erase stroke is version 1 (nonce 0) of object `author/stroke.id`.
 * 2. Version 1 counts only from the creator `by`; version v > 1 counts only when a
 *    counting version v − 1 of the same object is held (anyone in the group may
 *    change any object, but never jump ahead: no version wins by being large).
 * 3. Of the counting versions, the highest wins; a tie goes to the lower nonce,
 *    then the lower author key, then the lower sequence number.
 * 4. `kind` and ink `points` come from the winning version 1 and never change.
 * 5. An object is gone when its winner says `del`, when its creator signed an
 *    `undo` of its ID (legacy strokes; whatever kind its version 1), or when a signed `clear` had seen its
 *    winner (`seen[author] >= seq`) and the winner is not dated after the clear
 *    (`sentAt <= clear's sentAt`): a clear reaches only what its author saw and
 *    what was written before it, and a version written after it (unseen, or
 *    later) keeps the object. The peer refuses signed messages dated more than
 *    MAX_FUTURE_MS ahead at receipt (peer/authorship.ts), so a clear's date
 *    cannot reach far past its sending.
 * 6. Unsigned strokes (profiles older than signing) replay in (sentAt, sender,
 *    id) order as before: 'clear' empties, 'undo' removes its sender's stroke; a
 *    signed clear removes those sent before it, a signed undo of its sender the
 *    one it names.
 * 7. Paint order: `z` (legacy strokes are 0), then time, then key. Time only
 *    orders objects of equal `z`; it never decides what is on the board.
 */
import type { BoardEntry, ShapeKind, ShapeOp, Stroke } from './contract.js';

type PointT = { x: number; y: number };

/** An object as drawn. Ink points are in their own space, mapped onto (x, y, w, h). */
export interface BoardObject {
  /** `by/id`: creator and ID (unsigned legacy strokes: `~sender/id`). */
  key: string;
  id: string;
  /** Creator's member key (null: an unsigned legacy stroke, which cannot be changed). */
  by: string | null;
  /** Creator's peer ID (who drew it). */
  sender: string;
  kind: ShapeKind | 'erase';
  x: number;
  y: number;
  w: number;
  h: number;
  z: number;
  color: string;
  fill?: string;
  width: number;
  text?: string;
  points?: PointT[];
  /** The winning version and its nonce: the next change writes version v + 1. */
  v: number;
  n: number;
  /** Signed time of the version that created it (orders equal `z`). */
  createdAt: number;
}

/** One counting candidate for an object's state. */
interface Version {
  v: number;
  n: number;
  author: string;
  seq: number;
  sentAt: number;
  sender: string;
  op: ShapeOp;
  entry: BoardEntry;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Rule 3: does version `a` beat version `b`? */
export function beats(a: Pick<Version, 'v' | 'n' | 'author' | 'seq'>, b: Pick<Version, 'v' | 'n' | 'author' | 'seq'>): boolean {
  if (a.v !== b.v) return a.v > b.v;
  if (a.n !== b.n) return a.n < b.n;
  const byAuthor = cmp(a.author, b.author);
  if (byAuthor !== 0) return byAuthor < 0;
  return a.seq < b.seq;
}

/** The bounding box of some points (a single point: zero size). */
export function boundsOf(points: readonly PointT[]): { x: number; y: number; w: number; h: number } {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const p of points) {
    minX = Math.min(minX, p.x);
    minY = Math.min(minY, p.y);
    maxX = Math.max(maxX, p.x);
    maxY = Math.max(maxY, p.y);
  }
  if (points.length === 0) return { x: 0, y: 0, w: 0, h: 0 };
  return { x: minX, y: minY, w: maxX - minX, h: maxY - minY };
}

/** A pen or erase stroke as version 1 of an ink (or erase) object. */
function strokeAsOp(stroke: Stroke, by: string | undefined): ShapeOp & { kind: ShapeKind } {
  const b = boundsOf(stroke.points);
  return { id: stroke.id, ...(by ? { by } : {}), v: 1, n: 0, kind: 'ink', points: stroke.points, ...b, z: 0, color: stroke.color, width: stroke.width };
}

const isSigned = (e: BoardEntry): e is BoardEntry & { author: string; seq: number } => e.author !== undefined && e.seq !== undefined;
const entryOrder = (a: BoardEntry, b: BoardEntry): number => a.sentAt - b.sentAt || cmp(a.sender, b.sender) || cmp(a.stroke?.id ?? a.shape?.id ?? '', b.stroke?.id ?? b.shape?.id ?? '');

/** Rule 6: the unsigned strokes still on the board, in their legacy replay. */
function legacyStrokes(entries: BoardEntry[]): BoardEntry[] {
  let board: BoardEntry[] = [];
  for (const e of entries.filter((x) => !isSigned(x) && x.stroke).sort(entryOrder)) {
    const s = e.stroke!;
    if (s.tool === 'pen' || s.tool === 'erase') board.push(e);
    else if (s.tool === 'clear') board = [];
    else if (s.tool === 'undo') board = board.filter((x) => !(x.stroke!.id === s.target && x.sender === e.sender));
  }
  return board;
}

/** The counting versions of every object (rules 1–2), by key. */
function countingVersions(signed: (BoardEntry & { author: string; seq: number })[]): Map<string, Version[]> {
  const byKey = new Map<string, Map<number, Version[]>>();
  for (const e of signed) {
    let op: ShapeOp | null = null;
    if (e.shape) op = e.shape.by ? e.shape : null;
    else if (e.stroke && (e.stroke.tool === 'pen' || e.stroke.tool === 'erase')) op = strokeAsOp(e.stroke, e.author);
    if (!op || !op.by) continue;
    if (op.v === 1 && (op.by !== e.author || !op.kind)) continue; // rule 2: only the creator creates
    const key = `${op.by}/${op.id}`;
    let versions = byKey.get(key);
    if (!versions) byKey.set(key, (versions = new Map()));
    const list = versions.get(op.v) ?? [];
    list.push({ v: op.v, n: op.n, author: e.author, seq: e.seq, sentAt: e.sentAt, sender: e.sender, op, entry: e });
    versions.set(op.v, list);
  }
  const out = new Map<string, Version[]>();
  for (const [key, versions] of byKey) {
    const counting: Version[] = [];
    for (let v = 1; versions.has(v); v++) counting.push(...versions.get(v)!);
    if (counting.length > 0) out.set(key, counting);
  }
  return out;
}

/**
 * Rule 5: a signed clear reaches a version its author had seen (`seen[author] >= seq`)
 * and that is not dated after the clear. `seen` is the clearer's own word, so the date
 * bounds it: a clear naming numbers far ahead reaches nothing written after it.
 */
export function reaches(clear: BoardEntry, win: Pick<Version, 'author' | 'seq' | 'sentAt'>): boolean {
  return (clear.seen?.[win.author] ?? 0) >= win.seq && win.sentAt <= clear.sentAt;
}

/**
 * Rule 5 for every object at once: per author, the clears' numbers seen, descending, each with
 * the latest-dated clear among it and those before it. `reachedByAClear` then answers "does some
 * clear reach this version" with one binary search, where asking every clear for every object
 * made N insider clears that reach nothing cost N × objects (16,000 of each: 1.5 s per
 * computation, review 29). The same answer as `clears.some(c => reaches(c, v))`.
 */
export type ClearIndex = {
  /** Per author: numbers seen, descending; and the latest-dated clear among those up to each. */
  byAuthor: Map<string, { seq: number[]; clear: BoardEntry[] }>;
  /** The latest-dated clear of all (it reaches a number of 0 or less of anyone). */
  latest: BoardEntry | null;
};

export function clearIndex(clears: BoardEntry[]): ClearIndex {
  const pairs = new Map<string, [number, BoardEntry][]>();
  const later = (a: BoardEntry | null, b: BoardEntry): BoardEntry => (a && a.sentAt >= b.sentAt ? a : b);
  let latest: BoardEntry | null = null;
  for (const c of clears) {
    latest = later(latest, c);
    for (const [author, seq] of Object.entries(c.seen ?? {})) {
      let list = pairs.get(author);
      if (!list) pairs.set(author, (list = []));
      list.push([seq, c]);
    }
  }
  const byAuthor = new Map<string, { seq: number[]; clear: BoardEntry[] }>();
  for (const [author, list] of pairs) {
    list.sort((x, y) => y[0] - x[0]);
    const seq: number[] = [];
    const clear: BoardEntry[] = [];
    let by: BoardEntry | null = null;
    for (const [n, c] of list) {
      by = later(by, c);
      seq.push(n);
      clear.push(by);
    }
    byAuthor.set(author, { seq, clear });
  }
  return { byAuthor, latest };
}

export function reachedByAClear(index: ClearIndex, win: Pick<Version, 'author' | 'seq' | 'sentAt'>): boolean {
  return clearReaching(index, win) !== null;
}

/** A clear that reaches `win` (the latest-dated among those that name enough of its author), or null: one binary search. */
function clearReaching(index: ClearIndex, win: Pick<Version, 'author' | 'seq' | 'sentAt'>): BoardEntry | null {
  // A clear that names nothing of this author still reaches a number of 0 or less (rule 5 reads a missing entry as 0).
  if (win.seq <= 0) return index.latest && index.latest.sentAt >= win.sentAt ? index.latest : null;
  const e = index.byAuthor.get(win.author);
  if (!e) return null;
  let lo = 0;
  let hi = e.seq.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (e.seq[mid]! >= win.seq) lo = mid + 1;
    else hi = mid;
  }
  const clear = lo > 0 ? e.clear[lo - 1]! : null;
  return clear && clear.sentAt >= win.sentAt ? clear : null;
}

function winnerOf(list: Version[]): Version {
  let best = list[0]!;
  for (const c of list) if (beats(c, best)) best = c;
  return best;
}

interface Computed {
  objects: BoardObject[];
  /**
   * What a newcomer is re-shared: per visible signed object, the entries it rests on; per signed
   * object that is gone, what makes it gone (its versions from 2 up to a winner that says `del`;
   * the creator's `undo`; or a clear that reaches its winner, with its versions from 2 up to the
   * winner), never its version 1.
   */
  support: BoardEntry[];
}

function compute(all: Iterable<BoardEntry>): Computed {
  const entries = [...all];
  const signed = entries.filter(isSigned);
  const clears = signed.filter((e) => e.stroke?.tool === 'clear');
  const undos = signed.filter((e) => e.stroke?.tool === 'undo' && e.stroke.target !== undefined);
  const undoneLegacy = new Set(undos.map((e) => `~${e.sender}/${e.stroke!.target!}`));
  const lastSignedClearAt = clears.reduce((t, c) => Math.max(t, c.sentAt), -Infinity);
  const reach = clearIndex(clears);
  const objects: BoardObject[] = [];
  for (const e of legacyStrokes(entries)) {
    if (e.sentAt <= lastSignedClearAt || undoneLegacy.has(`~${e.sender}/${e.stroke!.id}`)) continue;
    const op = strokeAsOp(e.stroke!, undefined);
    objects.push({ ...objectOf(op, op, e.sender, e.sentAt, `~${e.sender}/${op.id}`, null), kind: e.stroke!.tool === 'erase' ? 'erase' : 'ink' });
  }
  const support: BoardEntry[] = [];
  const goneBy = new Set<BoardEntry>();
  const undoOf = new Map(undos.map((e) => [`${e.author}/${e.stroke!.target!}`, e]));
  for (const [key, list] of countingVersions(signed)) {
    const win = winnerOf(list);
    const created = winnerOf(list.filter((c) => c.v === 1));
    // Versions 2 up to the winner: with them, the winner counts wherever version 1 comes from.
    const upToWinner = (): void => {
      for (const c of list) if (c.v > 1 && c.v <= win.v) support.push(c.entry);
    };
    if (win.op.del) {
      upToWinner();
      continue;
    }
    // The creator's undo takes back its object `by/id` whatever version 1 is (a stroke and a shape
    // it signed under one ID: the undo reached the one that won here, never the other elsewhere).
    const undo = undoOf.get(`${created.author}/${created.op.id}`);
    if (undo) {
      goneBy.add(undo);
      continue;
    }
    const clear = clearReaching(reach, win);
    if (clear) {
      // The winner must count at the newcomer for this clear to reach it: a clear that reached
      // the winner need not reach an earlier version (dated later, or of an author it had not
      // seen; review 30's second pass).
      goneBy.add(clear);
      upToWinner();
      continue;
    }
    const obj = objectOf(created.op, win.op, created.sender, created.sentAt, key, created.author);
    if (created.entry.stroke?.tool === 'erase') obj.kind = 'erase';
    objects.push(obj);
    for (const c of list) if (c.v <= win.v) support.push(c.entry);
  }
  support.push(...goneBy);
  objects.sort((a, b) => a.z - b.z || a.createdAt - b.createdAt || cmp(a.key, b.key));
  return { objects, support };
}

function objectOf(created: ShapeOp, win: ShapeOp, sender: string, createdAt: number, key: string, by: string | null): BoardObject {
  const o: BoardObject = {
    key,
    id: created.id,
    by,
    sender,
    kind: created.kind ?? 'rect',
    x: win.x,
    y: win.y,
    w: win.w,
    h: win.h,
    z: win.z,
    color: win.color,
    width: win.width,
    v: win.v,
    n: win.n,
    createdAt,
  };
  if (win.fill) o.fill = win.fill;
  if (win.text !== undefined) o.text = win.text;
  if (created.points) o.points = created.points;
  return o;
}

/** What is on the board, in paint order (bottom first). */
export function boardObjects(entries: Iterable<BoardEntry>): BoardObject[] {
  return compute(entries).objects;
}

/**
 * What a newcomer is re-shared: for each object on the board, every counting
 * version up to its winner; for each signed object gone, what makes it gone
 * (versions 2 up to a `del` winner; the undo; or a clear that reaches the winner,
 * with versions 2 up to it; never version 1). A board computed from these alone equals the board (unsigned
 * legacy strokes aside), and stays equal with any of the sharer's other entries
 * added (what another member may re-share; review 30: re-shared first versions of deleted objects drew them
 * again at a newcomer that could not read the delete).
 */
export function boardSupport(entries: Iterable<BoardEntry>): BoardEntry[] {
  return compute(entries).support;
}

/** A stable key for an entry, to drop duplicates (own echo, history overlap). */
export function entryKey(e: BoardEntry): string {
  if (e.author !== undefined && e.seq !== undefined) return `${e.author}#${e.seq}`;
  return `${e.sender}:${e.stroke?.id ?? e.shape?.id ?? ''}`;
}

/** The version that changes `obj` into `change` (the next version; the caller draws the nonce). */
export function nextVersion(obj: BoardObject, change: Partial<Pick<ShapeOp, 'x' | 'y' | 'w' | 'h' | 'z' | 'color' | 'fill' | 'width' | 'text' | 'del'>>, nonce: number): ShapeOp {
  if (obj.by === null) throw new RangeError('an unsigned legacy stroke cannot be changed');
  const op: ShapeOp = { id: obj.id, by: obj.by, v: obj.v + 1, n: nonce, x: obj.x, y: obj.y, w: obj.w, h: obj.h, z: obj.z, color: obj.color, width: obj.width };
  if (obj.fill) op.fill = obj.fill;
  if (obj.text !== undefined) op.text = obj.text;
  return { ...op, ...change };
}
