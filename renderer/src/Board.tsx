/**
 * The shared whiteboard (issue 18 §4): shapes (rectangle, ellipse, arrow), text,
 * sticky notes and freehand ink; select, move, resize and delete; pan and zoom;
 * export as PNG or SVG. What is drawn is `feed.board.objects`, computed by the
 * one board model the peer uses too (app/api/board-model.ts), from the entries
 * the peer keeps (`board.entries`, then `board.entry` events).
 *
 * Every change is one new version of one object (`board.shape`: version + 1, a
 * fresh random nonce; docs/ui.md "The whiteboard"); while it travels to the peer
 * the object is shown as changed (`pending`). Undo is local: it writes the
 * previous state of what this member changed as a new version. "Clear" is the
 * stroke-era clear: it removes what this member has seen (the peer names it).
 *
 * The view: an SVG whose viewBox is the camera (top-left corner and zoom); the
 * first view shows the stroke era's 1600 × 1000 area.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { GroupSummary, ShapeOp, Stroke } from '../../app/api/contract.js';
import { nextVersion, type BoardObject } from '../../app/api/board-model.js';
import { BOARD_HEIGHT, BOARD_WIDTH } from './board-model.js';
import { FILLABLE, fillFor, isFilled, NOTE_FILL, NOTE_FONT, normal, objectBox, textBox, textFont, topAt, type Box } from './board-draw.js';
import { BoardToolbar, COLORS, WIDTHS, type Tool } from './BoardToolbar.js';
import { BoardObjects } from './BoardObjects.js';
import { exportBoard } from './board-export.js';
import { errorText, useSession } from './context.js';
import { useFeed, type FeedStore } from './feed.js';
import { Confirm } from './Confirm.js';

type P = { x: number; y: number };
type Camera = { x: number; y: number; zoom: number };
type Handle = 'nw' | 'ne' | 'sw' | 'se' | 'start' | 'end';
type Gesture =
  | { kind: 'ink'; points: P[] }
  | { kind: 'shape'; tool: 'rect' | 'ellipse' | 'arrow'; from: P; to: P }
  | { kind: 'move'; obj: BoardObject; from: P; to: P }
  | { kind: 'resize'; obj: BoardObject; handle: Handle; to: P }
  | { kind: 'pan'; from: { x: number; y: number }; cam: Camera }
  | { kind: 'erase'; hit: Set<string> };
type Editing = { at: P; kind: 'text' | 'note'; obj: BoardObject | null; text: string };

const randomId = (): string => Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
const randomNonce = (): number => crypto.getRandomValues(new Uint32Array(1))[0]! >>> 1;
const MIN_ZOOM = 0.1;
const MAX_ZOOM = 8;

/** The object as a gesture in progress shows it (moved or resized), or as it is. */
function changedBox(g: Gesture | null, o: BoardObject): Box | null {
  if (g?.kind === 'move' && g.obj.id === o.id) return { x: o.x + g.to.x - g.from.x, y: o.y + g.to.y - g.from.y, w: o.w, h: o.h };
  if (g?.kind === 'resize' && g.obj.id === o.id) {
    if (g.handle === 'start') return { x: g.to.x, y: g.to.y, w: o.x + o.w - g.to.x, h: o.y + o.h - g.to.y };
    if (g.handle === 'end') return { x: o.x, y: o.y, w: g.to.x - o.x, h: g.to.y - o.y };
    const n = normal(o);
    const x0 = g.handle.endsWith('w') ? g.to.x : n.x;
    const x1 = g.handle.endsWith('e') ? g.to.x : n.x + n.w;
    const y0 = g.handle.startsWith('n') ? g.to.y : n.y;
    const y1 = g.handle.startsWith('s') ? g.to.y : n.y + n.h;
    return normal({ x: x0, y: y0, w: x1 - x0, h: y1 - y0 });
  }
  return null;
}

export function Board({ group, store, active }: { group: GroupSummary; store: FeedStore; active: boolean }) {
  const { client, selfPeerId, notify } = useSession();
  const feed = useFeed(store, group.group);
  const svgRef = useRef<SVGSVGElement>(null);
  const [size, setSize] = useState({ w: 800, h: 500 });
  const [cam, setCam] = useState<Camera | null>(null);
  const [tool, setTool] = useState<Tool>('pen');
  const [color, setColor] = useState(COLORS[5]!);
  const [width, setWidth] = useState(WIDTHS[1]!.value);
  /** Fill for new rectangles, ellipses and notes: none, or the current colour (board-draw.ts `fillFor`). */
  const [filled, setFilled] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const [gesture, setGesture] = useState<Gesture | null>(null);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [pending, setPending] = useState<ReadonlyMap<string, BoardObject | null>>(new Map());
  const [confirmClear, setConfirmClear] = useState(false);
  const undoStack = useRef<{ id: string; before: BoardObject | null }[]>([]);
  const spaceDown = useRef(false);
  const canDraw = group.state === 'member';

  useEffect(() => {
    if (!feed.boardLoaded) store.loadBoard(group.group).catch((err) => notify(`Could not load the board: ${errorText(err)}`, 'error'));
  }, [group.group, feed.boardLoaded, store, notify]);

  // The stage's size in CSS pixels; the first view fits the stroke-era area.
  useEffect(() => {
    const svg = svgRef.current;
    if (!svg) return;
    const fit = () => {
      const r = svg.getBoundingClientRect();
      if (r.width < 1 || r.height < 1) return;
      setSize({ w: r.width, h: r.height });
      setCam((c) => c ?? { x: 0, y: 0, zoom: Math.min(r.width / BOARD_WIDTH, r.height / BOARD_HEIGHT) });
    };
    const ro = new ResizeObserver(fit);
    ro.observe(svg);
    fit();
    return () => ro.disconnect();
  }, [active]);

  const camera = cam ?? { x: 0, y: 0, zoom: size.w / BOARD_WIDTH };
  const objects = useMemo(() => {
    const out: BoardObject[] = [];
    for (const o of feed.board.objects) {
      const p = pending.get(o.id);
      if (p === null) continue;
      out.push(p && p.v >= o.v ? p : o);
    }
    for (const [id, p] of pending) if (p && !feed.board.objects.some((o) => o.id === id)) out.push(p);
    return out;
  }, [feed.board.objects, pending]);
  const selectedObj = objects.find((o) => o.id === selected) ?? null;
  const topZ = objects.reduce((z, o) => Math.max(z, o.z), 0);

  const toBoard = useCallback(
    (e: { clientX: number; clientY: number }): P => {
      const r = svgRef.current!.getBoundingClientRect();
      return { x: Math.round((camera.x + (e.clientX - r.left) / camera.zoom) * 10) / 10, y: Math.round((camera.y + (e.clientY - r.top) / camera.zoom) * 10) / 10 };
    },
    [camera.x, camera.y, camera.zoom],
  );

  /** Sends one version; shows it meanwhile; remembers the state before for Undo. */
  const put = async (op: ShapeOp, shown: BoardObject | null, before: BoardObject | null, remember = true) => {
    const id = op.id;
    setPending((m) => new Map(m).set(id, shown));
    if (remember) undoStack.current = [...undoStack.current.slice(-99), { id, before }];
    try {
      await client.call('board.shape', { group: group.group, op });
    } catch (err) {
      notify(`Not sent: ${errorText(err)}`, 'error');
    } finally {
      setPending((m) => {
        const next = new Map(m);
        next.delete(id);
        return next;
      });
    }
  };

  const create = (fields: Omit<ShapeOp, 'id' | 'v' | 'n' | 'z' | 'by'>) => {
    const id = randomId();
    const op: ShapeOp = { id, v: 1, n: randomNonce(), z: topZ + 1, ...fields };
    const shown: BoardObject = { key: `self/${id}`, id, by: null, sender: selfPeerId, kind: op.kind!, x: op.x, y: op.y, w: op.w, h: op.h, z: op.z, color: op.color, width: op.width, v: 1, n: op.n, createdAt: Date.now(), ...(op.points ? { points: op.points } : {}), ...(op.text !== undefined ? { text: op.text } : {}), ...(op.fill ? { fill: op.fill } : {}) };
    void put(op, shown, null);
    return id;
  };

  const change = (o: BoardObject, fields: Parameters<typeof nextVersion>[1], remember = true) => {
    if (o.by === null) return;
    const op = nextVersion(o, fields, randomNonce());
    const shown = op.del ? null : { ...o, ...fields, v: op.v, n: op.n };
    void put(op, shown, o, remember);
  };

  const undo = () => {
    const last = undoStack.current.pop();
    if (!last) return;
    const now = feed.board.objects.find((o) => o.id === last.id) ?? (last.before ? null : objects.find((o) => o.id === last.id));
    if (!now && !last.before) return;
    if (!last.before) return change(now!, { del: true }, false);
    // Restore the previous state as a new version (deleted objects come back too).
    const base = now ?? last.before;
    const { x, y, w, h, z, color: c, width: wd, fill } = last.before;
    change({ ...base, v: Math.max(base.v, last.before.v) }, { x, y, w, h, z, color: c, width: wd, fill, ...(last.before.text !== undefined ? { text: last.before.text } : {}), del: false }, false);
  };

  const sendStroke = async (stroke: Stroke) => {
    try {
      await client.call('board.draw', { group: group.group, stroke });
    } catch (err) {
      notify(`Not sent: ${errorText(err)}`, 'error');
    }
  };

  // The text being edited, read by commit (a pointer-down elsewhere and the blur it causes both commit: once).
  const editRef = useRef<Editing | null>(null);
  editRef.current = editing;
  const commitEdit = () => {
    const ed = editRef.current;
    editRef.current = null;
    setEditing(null);
    if (!ed) return;
    const text = ed.text.replace(/\s+$/, '');
    if (ed.obj) {
      if (text === (ed.obj.text ?? '')) return;
      if (!text) return change(ed.obj, { del: true });
      const box = ed.kind === 'text' ? textBox(text, textFont(ed.obj)) : { w: ed.obj.w, h: ed.obj.h };
      return change(ed.obj, { text, w: box.w, h: box.h });
    }
    if (!text) return;
    if (ed.kind === 'text') {
      const box = textBox(text, 12 + width * 2);
      setSelected(create({ kind: 'text', x: ed.at.x, y: ed.at.y, ...box, color, width, text }));
    } else {
      setSelected(create({ kind: 'note', x: ed.at.x, y: ed.at.y, w: 220, h: 160, color: '#1f2937', fill: filled ? fillFor('note', color) : NOTE_FILL, width: 1, text }));
    }
  };

  const handleAt = (p: P): Handle | null => {
    if (!selectedObj) return null;
    const tol = 8 / camera.zoom;
    const o = selectedObj;
    const corners: [Handle, P][] =
      o.kind === 'arrow'
        ? [['start', { x: o.x, y: o.y }], ['end', { x: o.x + o.w, y: o.y + o.h }]]
        : (() => {
            const n = normal(o);
            return [['nw', { x: n.x, y: n.y }], ['ne', { x: n.x + n.w, y: n.y }], ['sw', { x: n.x, y: n.y + n.h }], ['se', { x: n.x + n.w, y: n.y + n.h }]];
          })();
    return corners.find(([, c]) => Math.hypot(c.x - p.x, c.y - p.y) <= tol)?.[0] ?? null;
  };

  const onPointerDown = (e: React.PointerEvent<SVGSVGElement>) => {
    if (editing) commitEdit();
    e.currentTarget.setPointerCapture(e.pointerId);
    const p = toBoard(e);
    if (e.button === 1 || tool === 'hand' || spaceDown.current) return setGesture({ kind: 'pan', from: { x: e.clientX, y: e.clientY }, cam: camera });
    if (e.button !== 0) return;
    if (tool === 'select') {
      const handle = handleAt(p);
      if (handle && selectedObj && canDraw) return setGesture({ kind: 'resize', obj: selectedObj, handle, to: p });
      const hit = topAt(objects, p, 6 / camera.zoom);
      setSelected(hit?.id ?? null);
      if (hit && canDraw && hit.by !== null) return setGesture({ kind: 'move', obj: hit, from: p, to: p });
      if (!hit) return setGesture({ kind: 'pan', from: { x: e.clientX, y: e.clientY }, cam: camera });
      return;
    }
    if (!canDraw) return;
    if (tool === 'pen') return setGesture({ kind: 'ink', points: [p] });
    if (tool === 'erase') return setGesture({ kind: 'erase', hit: new Set() });
    if (tool === 'rect' || tool === 'ellipse' || tool === 'arrow') return setGesture({ kind: 'shape', tool, from: p, to: p });
    if (tool === 'text' || tool === 'note') {
      e.preventDefault(); // no mousedown: the editor about to open keeps the focus
      const hit = topAt(objects, p, 4 / camera.zoom);
      if (hit && hit.kind === tool) setEditing({ at: { x: hit.x, y: hit.y }, kind: tool, obj: hit, text: hit.text ?? '' });
      else setEditing({ at: p, kind: tool, obj: null, text: '' });
    }
  };

  const onPointerMove = (e: React.PointerEvent<SVGSVGElement>) => {
    const g = gesture;
    if (!g) return;
    const p = toBoard(e);
    if (g.kind === 'pan') {
      setCam({ ...g.cam, x: g.cam.x - (e.clientX - g.from.x) / g.cam.zoom, y: g.cam.y - (e.clientY - g.from.y) / g.cam.zoom });
    } else if (g.kind === 'ink') {
      const last = g.points[g.points.length - 1]!;
      if (Math.hypot(p.x - last.x, p.y - last.y) * camera.zoom < 1.5 || g.points.length >= 5000) return;
      setGesture({ kind: 'ink', points: [...g.points, p] });
    } else if (g.kind === 'erase') {
      const hit = topAt(objects, p, 6 / camera.zoom);
      if (hit && hit.by !== null && !g.hit.has(hit.id)) {
        g.hit.add(hit.id);
        change(hit, { del: true });
      }
    } else setGesture({ ...g, to: p });
  };

  const onPointerUp = () => {
    const g = gesture;
    setGesture(null);
    if (!g) return;
    if (g.kind === 'ink' && g.points.length > 0) {
      const xs = g.points.map((q) => q.x);
      const ys = g.points.map((q) => q.y);
      const box = { x: Math.min(...xs), y: Math.min(...ys), w: Math.max(...xs) - Math.min(...xs), h: Math.max(...ys) - Math.min(...ys) };
      create({ kind: 'ink', ...box, points: g.points, color, width });
    } else if (g.kind === 'shape') {
      let box = { x: g.from.x, y: g.from.y, w: g.to.x - g.from.x, h: g.to.y - g.from.y };
      if (Math.hypot(box.w, box.h) * camera.zoom < 6) box = { ...box, w: 160, h: g.tool === 'arrow' ? 0 : 100 };
      if (g.tool !== 'arrow') box = normal(box);
      setSelected(create({ kind: g.tool, ...box, color, width, ...(filled && g.tool !== 'arrow' ? { fill: fillFor(g.tool, color) } : {}) }));
      setTool('select');
    } else if (g.kind === 'move' || g.kind === 'resize') {
      const box = changedBox(g, g.obj);
      if (box && (box.x !== g.obj.x || box.y !== g.obj.y || box.w !== g.obj.w || box.h !== g.obj.h)) {
        change(g.obj, box);
      }
    }
  };

  const zoomAt = (factor: number, at?: { clientX: number; clientY: number }) => {
    const r = svgRef.current!.getBoundingClientRect();
    const sx = at ? at.clientX - r.left : r.width / 2;
    const sy = at ? at.clientY - r.top : r.height / 2;
    const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, camera.zoom * factor));
    setCam({ zoom, x: camera.x + sx / camera.zoom - sx / zoom, y: camera.y + sy / camera.zoom - sy / zoom });
  };

  const fitAll = () => {
    const boxes = objects.map(objectBox);
    if (boxes.length === 0) return setCam({ x: 0, y: 0, zoom: Math.min(size.w / BOARD_WIDTH, size.h / BOARD_HEIGHT) });
    const x0 = Math.min(...boxes.map((b) => b.x)) - 40;
    const y0 = Math.min(...boxes.map((b) => b.y)) - 40;
    const x1 = Math.max(...boxes.map((b) => b.x + b.w)) + 40;
    const y1 = Math.max(...boxes.map((b) => b.y + b.h)) + 40;
    const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, Math.min(size.w / (x1 - x0), size.h / (y1 - y0))));
    setCam({ zoom, x: (x0 + x1) / 2 - size.w / zoom / 2, y: (y0 + y1) / 2 - size.h / zoom / 2 });
  };

  // Wheel: pan; with Ctrl (or a pinch), zoom at the pointer. Not passive: it prevents page scrolling.
  useEffect(() => {
    const svg = svgRef.current;
    if (!svg) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      if (e.ctrlKey || e.metaKey) zoomAt(Math.exp(-e.deltaY / 300), e);
      else setCam((c) => (c ? { ...c, x: c.x + e.deltaX / c.zoom, y: c.y + e.deltaY / c.zoom } : c));
    };
    svg.addEventListener('wheel', onWheel, { passive: false });
    return () => svg.removeEventListener('wheel', onWheel);
  });

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (editing || (e.target as HTMLElement).tagName === 'TEXTAREA') return;
    const k = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && k === 'z') {
      e.preventDefault();
      undo();
    } else if ((k === 'delete' || k === 'backspace') && selectedObj && canDraw) {
      change(selectedObj, { del: true });
      setSelected(null);
    } else if (k === ' ') spaceDown.current = true;
    else if (k === 'escape') setSelected(null);
    else if (!e.ctrlKey && !e.metaKey) {
      const byKey: Record<string, Tool> = { v: 'select', p: 'pen', r: 'rect', o: 'ellipse', a: 'arrow', t: 'text', n: 'note', e: 'erase', h: 'hand' };
      if (byKey[k]) setTool(byKey[k]);
      else if (/^[1-8]$/.test(k)) setColor(COLORS[Number(k) - 1]!);
      else if (k === '+' || k === '=') zoomAt(1.25);
      else if (k === '-') zoomAt(0.8);
    }
  };

  const shownObjects = objects.map((o) => {
    const box = changedBox(gesture, o);
    return box ? { ...o, ...box } : o;
  });
  const draft: BoardObject | null =
    gesture?.kind === 'ink'
      ? { key: 'draft', id: 'draft', by: null, sender: selfPeerId, kind: 'ink', z: 0, color, width, v: 0, n: 0, createdAt: 0, points: gesture.points, ...boxOf(gesture.points) }
      : gesture?.kind === 'shape'
        ? { key: 'draft', id: 'draft', by: null, sender: selfPeerId, kind: gesture.tool, x: gesture.from.x, y: gesture.from.y, w: gesture.to.x - gesture.from.x, h: gesture.to.y - gesture.from.y, z: 0, color, width, v: 0, n: 0, createdAt: 0, ...(filled && gesture.tool !== 'arrow' ? { fill: fillFor(gesture.tool, color) } : {}) }
        : null;
  const sel = shownObjects.find((o) => o.id === selected) ?? null;
  const fillable = sel && canDraw && sel.by !== null && FILLABLE.has(sel.kind) ? sel : null;
  /** The fill control: a selected rectangle, ellipse or note's own fill, else the one for what comes next. */
  const setFill = (on: boolean) => {
    setFilled(on);
    if (fillable) change(fillable, { fill: on ? fillFor(fillable.kind, color) : fillable.kind === 'note' ? NOTE_FILL : undefined });
  };

  return (
    <section className="board" aria-label="Whiteboard" onKeyDown={onKeyDown} onKeyUp={(e) => e.key === ' ' && (spaceDown.current = false)}>
      <BoardToolbar
        tool={tool}
        setTool={(t) => {
          setTool(t);
          if (t !== 'select' && t !== 'hand') setSelected(null); // a drawing tool: the colour is for what comes next
        }}
        color={color}
        setColor={(c) => {
          setColor(c);
          if (sel && canDraw && sel.kind !== 'erase') change(sel, { color: c, ...(isFilled(sel) ? { fill: fillFor(sel.kind, c) } : {}) });
        }}
        fill={fillable ? isFilled(fillable) : filled}
        setFill={setFill}
        width={width}
        setWidth={setWidth}
        count={objects.filter((o) => o.kind !== 'erase').length}
        canDraw={canDraw}
        canUndo={canDraw && undoStack.current.length > 0}
        onUndo={undo}
        canDelete={canDraw && sel !== null}
        onDelete={() => {
          if (sel) change(sel, { del: true });
          setSelected(null);
        }}
        canClear={canDraw && objects.length > 0}
        onClear={() => setConfirmClear(true)}
        zoom={camera.zoom}
        onZoom={(f) => zoomAt(f)}
        onFit={fitAll}
        onExport={(format) => void exportBoard(objects, format, group.name).catch((err) => notify(`Export failed: ${errorText(err)}`, 'error'))}
      />
      <div className="board-stage">
        <svg
          ref={svgRef}
          data-testid="board-canvas"
          className={`board-canvas tool-${tool}${gesture?.kind === 'pan' ? ' panning' : ''}`}
          tabIndex={0}
          role="img"
          aria-label="Whiteboard. V select, P pen, R rectangle, O ellipse, A arrow, T text, N note, E eraser, H or Space pan, Ctrl+wheel zoom, Delete removes, Ctrl+Z undo."
          viewBox={`${camera.x} ${camera.y} ${size.w / camera.zoom} ${size.h / camera.zoom}`}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={() => setGesture(null)}
          onDoubleClick={(e) => {
            const hit = topAt(objects, toBoard(e), 4 / camera.zoom);
            if (canDraw && hit && (hit.kind === 'text' || hit.kind === 'note')) setEditing({ at: { x: hit.x, y: hit.y }, kind: hit.kind, obj: hit, text: hit.text ?? '' });
          }}
        >
          <BoardObjects objects={shownObjects} draft={draft} selected={sel} editingId={editing?.obj?.id ?? null} zoom={camera.zoom} />
        </svg>
        {editing && (
          <textarea
            className={`board-editor ${editing.kind}`}
            data-testid="board-text-input"
            autoFocus
            value={editing.text}
            placeholder={editing.kind === 'note' ? 'Note…' : 'Text…'}
            style={{
              left: (editing.at.x - camera.x) * camera.zoom,
              top: (editing.at.y - camera.y) * camera.zoom,
              fontSize: (editing.obj?.kind === 'text' ? textFont(editing.obj) : editing.kind === 'note' ? NOTE_FONT : 12 + width * 2) * camera.zoom,
              color: editing.kind === 'text' ? color : undefined,
            }}
            onChange={(e) => setEditing({ ...editing, text: e.target.value.slice(0, 4000) })}
            onBlur={commitEdit}
            onKeyDown={(e) => {
              if (e.key === 'Escape') setEditing(null);
              else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey || editing.kind === 'text') && !e.shiftKey) {
                e.preventDefault();
                commitEdit();
              }
            }}
          />
        )}
        {feed.boardLoaded && objects.length === 0 && !draft && <div className="board-hint muted">Draw, add shapes, text or notes — every member sees them, end-to-end encrypted.</div>}
      </div>
      {confirmClear && (
        <Confirm
          title="Clear the board for everyone?"
          confirmLabel="Clear board"
          danger
          onCancel={() => setConfirmClear(false)}
          onConfirm={() => {
            setConfirmClear(false);
            setSelected(null);
            void sendStroke({ id: randomId(), tool: 'clear', color: '#000000', width: 1, points: [] });
          }}
        >
          Everything on the board that you have seen is removed for every member.
        </Confirm>
      )}
    </section>
  );
}

function boxOf(points: P[]): Box {
  const xs = points.map((q) => q.x);
  const ys = points.map((q) => q.y);
  return { x: Math.min(...xs), y: Math.min(...ys), w: Math.max(...xs) - Math.min(...xs), h: Math.max(...ys) - Math.min(...ys) };
}
