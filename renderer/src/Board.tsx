/**
 * The shared whiteboard. Strokes live in a fixed logical space
 * (BOARD_WIDTH × BOARD_HEIGHT) so every screen draws the same picture; a stroke
 * is sent whole on pointer-up through `board.draw` (encrypted by the peer like
 * chat) and the board is replayed from `board.state` plus `board.stroke` events,
 * which is also how a late joiner sees what is already there.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { BoardStroke, GroupSummary, Stroke } from '../../app/api/contract.js';
import { BOARD_HEIGHT, BOARD_WIDTH, lastOwnMark } from './board-model.js';
import { errorText, useSession } from './context.js';
import { useFeed, type FeedStore } from './feed.js';
import { Confirm } from './Confirm.js';
import { Icon } from './Icon.js';

const COLORS = ['#1f2937', '#e11d48', '#f59e0b', '#16a34a', '#0ea5e9', '#6366f1', '#a855f7', '#ec4899'];
const WIDTHS = [{ label: 'Fine', value: 3 }, { label: 'Medium', value: 6 }, { label: 'Bold', value: 14 }];
const ERASER_SCALE = 4;

type Point = { x: number; y: number };

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function drawStroke(ctx: CanvasRenderingContext2D, s: Pick<Stroke, 'tool' | 'color' | 'width' | 'points'>, scale: number) {
  const pts = s.points;
  if (pts.length === 0) return;
  ctx.save();
  ctx.globalCompositeOperation = s.tool === 'erase' ? 'destination-out' : 'source-over';
  ctx.strokeStyle = s.color;
  ctx.fillStyle = s.color;
  ctx.lineWidth = s.width * scale;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  if (pts.length === 1) {
    ctx.beginPath();
    ctx.arc(pts[0]!.x * scale, pts[0]!.y * scale, (s.width * scale) / 2, 0, Math.PI * 2);
    ctx.fill();
  } else {
    ctx.beginPath();
    ctx.moveTo(pts[0]!.x * scale, pts[0]!.y * scale);
    for (let i = 1; i < pts.length - 1; i++) {
      const mid = { x: (pts[i]!.x + pts[i + 1]!.x) / 2, y: (pts[i]!.y + pts[i + 1]!.y) / 2 };
      ctx.quadraticCurveTo(pts[i]!.x * scale, pts[i]!.y * scale, mid.x * scale, mid.y * scale);
    }
    const last = pts[pts.length - 1]!;
    ctx.lineTo(last.x * scale, last.y * scale);
    ctx.stroke();
  }
  ctx.restore();
}

export function Board({ group, store, active }: { group: GroupSummary; store: FeedStore; active: boolean }) {
  const { client, selfPeerId, notify } = useSession();
  const feed = useFeed(store, group.group);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const wrapRef = useRef<HTMLDivElement>(null);
  const [tool, setTool] = useState<'pen' | 'erase'>('pen');
  const [color, setColor] = useState(COLORS[5]!);
  const [width, setWidth] = useState(WIDTHS[1]!.value);
  const [confirmClear, setConfirmClear] = useState(false);
  const drawing = useRef<Point[] | null>(null);
  const inFlight = useRef<Stroke[]>([]);
  const [, setTick] = useState(0);
  const canDraw = group.state === 'member';

  useEffect(() => {
    if (!feed.boardLoaded) store.loadBoard(group.group).catch((err) => notify(`Could not load the board: ${errorText(err)}`, 'error'));
  }, [group.group, feed.boardLoaded, store, notify]);

  const redraw = useCallback(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const scale = canvas.width / BOARD_WIDTH;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    for (const m of feed.board.marks) drawStroke(ctx, m.stroke, scale);
    for (const s of inFlight.current) drawStroke(ctx, s, scale);
    if (drawing.current) drawStroke(ctx, { tool, color, width: tool === 'erase' ? width * ERASER_SCALE : width, points: drawing.current }, scale);
  }, [feed.board, tool, color, width]);

  // Keep the backing store at device resolution for the element's current size.
  useEffect(() => {
    const wrap = wrapRef.current;
    const canvas = canvasRef.current;
    if (!wrap || !canvas) return;
    const fit = () => {
      const rect = canvas.getBoundingClientRect();
      const dpr = window.devicePixelRatio || 1;
      const w = Math.max(1, Math.round(rect.width * dpr));
      if (canvas.width !== w) {
        canvas.width = w;
        canvas.height = Math.round((w * BOARD_HEIGHT) / BOARD_WIDTH);
      }
      redraw();
    };
    const ro = new ResizeObserver(fit);
    ro.observe(wrap);
    fit();
    return () => ro.disconnect();
  }, [redraw, active]);

  useEffect(redraw, [redraw]);

  const toBoard = (e: React.PointerEvent<HTMLCanvasElement>): Point => {
    const rect = e.currentTarget.getBoundingClientRect();
    const x = ((e.clientX - rect.left) / rect.width) * BOARD_WIDTH;
    const y = ((e.clientY - rect.top) / rect.height) * BOARD_HEIGHT;
    return { x: Math.round(x * 10) / 10, y: Math.round(y * 10) / 10 };
  };

  const send = async (stroke: Stroke) => {
    inFlight.current = [...inFlight.current, stroke];
    try {
      await client.call('board.draw', { group: group.group, stroke });
      const echo: BoardStroke = { group: group.group, sender: selfPeerId, stroke, sentAt: Date.now() };
      store.addOwnStroke(echo);
    } catch (err) {
      notify(`Stroke not sent: ${errorText(err)}`, 'error');
    } finally {
      inFlight.current = inFlight.current.filter((s) => s.id !== stroke.id);
      setTick((t) => t + 1);
    }
  };

  const finishStroke = () => {
    const pts = drawing.current;
    drawing.current = null;
    if (!pts || pts.length === 0) return;
    void send({
      id: randomId(),
      tool,
      color: tool === 'erase' ? '#ffffff' : color,
      width: tool === 'erase' ? width * ERASER_SCALE : width,
      points: pts.slice(0, 5000),
    });
  };

  const undo = () => {
    const mine = lastOwnMark(feed.board, selfPeerId);
    if (!mine || !canDraw) return;
    void send({ id: randomId(), tool: 'undo', target: mine.stroke.id, color: '#000000', width: 1, points: [] });
  };

  const clear = () => {
    setConfirmClear(false);
    void send({ id: randomId(), tool: 'clear', color: '#000000', width: 1, points: [] });
  };

  const onKeyDown = (e: React.KeyboardEvent) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z') {
      e.preventDefault();
      undo();
    } else if (e.key === 'p') setTool('pen');
    else if (e.key === 'e') setTool('erase');
    else if (/^[1-8]$/.test(e.key)) {
      setTool('pen');
      setColor(COLORS[Number(e.key) - 1]!);
    }
  };

  const canUndo = canDraw && lastOwnMark(feed.board, selfPeerId) !== undefined;

  return (
    <section className="board" aria-label="Whiteboard" onKeyDown={onKeyDown}>
      <div className="board-toolbar" role="toolbar" aria-label="Drawing tools">
        <div className="seg" role="group" aria-label="Tool">
          <button type="button" className={tool === 'pen' ? 'on' : ''} aria-pressed={tool === 'pen'} onClick={() => setTool('pen')} title="Pen (P)" data-testid="board-pen">
            <Icon name="board" size={14} /> Pen
          </button>
          <button type="button" className={tool === 'erase' ? 'on' : ''} aria-pressed={tool === 'erase'} onClick={() => setTool('erase')} title="Eraser (E)" data-testid="board-eraser">
            <Icon name="eraser" size={14} /> Eraser
          </button>
        </div>
        <div className="swatches" role="group" aria-label="Colour">
          {COLORS.map((c, i) => (
            <button
              key={c}
              type="button"
              className={`swatch ${c === color && tool === 'pen' ? 'on' : ''}`}
              style={{ background: c }}
              aria-label={`Colour ${i + 1}`}
              aria-pressed={c === color}
              title={`Colour (${i + 1})`}
              onClick={() => {
                setColor(c);
                setTool('pen');
              }}
            />
          ))}
        </div>
        <div className="seg" role="group" aria-label="Width">
          {WIDTHS.map((w) => (
            <button key={w.value} type="button" className={w.value === width ? 'on' : ''} aria-pressed={w.value === width} onClick={() => setWidth(w.value)} title={w.label}>
              <span className="dot" style={{ width: 4 + w.value / 1.5, height: 4 + w.value / 1.5 }} />
            </button>
          ))}
        </div>
        <div className="spacer" />
        <span className="stroke-count muted">
          <span data-testid="board-stroke-count">{feed.board.marks.length}</span> {feed.board.marks.length === 1 ? 'stroke' : 'strokes'}
        </span>
        <button type="button" className="ghost" onClick={undo} disabled={!canUndo} title="Undo your last stroke (Ctrl+Z)" data-testid="board-undo">
          <Icon name="undo" size={14} /> Undo
        </button>
        <button type="button" className="ghost danger-text" onClick={() => setConfirmClear(true)} disabled={!canDraw || feed.board.marks.length === 0} data-testid="board-clear">
          Clear
        </button>
      </div>
      <div className="board-stage" ref={wrapRef}>
        <canvas
          ref={canvasRef}
          data-testid="board-canvas"
          className={`board-canvas tool-${tool}`}
          tabIndex={0}
          aria-label="Whiteboard canvas. P pen, E eraser, 1 to 8 colours, Ctrl+Z undo."
          onPointerDown={(e) => {
            if (!canDraw || e.button !== 0) return;
            e.currentTarget.setPointerCapture(e.pointerId);
            drawing.current = [toBoard(e)];
            redraw();
          }}
          onPointerMove={(e) => {
            const pts = drawing.current;
            if (!pts) return;
            const p = toBoard(e);
            const last = pts[pts.length - 1]!;
            if (Math.hypot(p.x - last.x, p.y - last.y) < 2 || pts.length >= 5000) return;
            pts.push(p);
            redraw();
          }}
          onPointerUp={finishStroke}
          onPointerCancel={finishStroke}
        />
        {feed.boardLoaded && feed.board.marks.length === 0 && <div className="board-hint muted">Draw here — every member sees it, end-to-end encrypted.</div>}
      </div>
      {confirmClear && (
        <Confirm title="Clear the board for everyone?" confirmLabel="Clear board" danger onCancel={() => setConfirmClear(false)} onConfirm={clear}>
          Every member's board is emptied. This cannot be undone.
        </Confirm>
      )}
    </section>
  );
}
