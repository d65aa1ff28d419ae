/**
 * The whiteboard's toolbar: tools (select, pen, shapes, text, note, eraser,
 * pan), colour, fill (none or the current colour: rectangles, ellipses and
 * notes) and width, undo, delete, clear, zoom and export. Stateless: the
 * board owns every value and passes the setters.
 */
import { Icon } from './Icon.js';

export type Tool = 'select' | 'pen' | 'rect' | 'ellipse' | 'arrow' | 'text' | 'note' | 'erase' | 'hand';

export const COLORS = ['#1f2937', '#e11d48', '#f59e0b', '#16a34a', '#0ea5e9', '#6366f1', '#a855f7', '#ec4899'];
export const WIDTHS = [{ label: 'Fine', value: 3 }, { label: 'Medium', value: 6 }, { label: 'Bold', value: 14 }];

const TOOLS: { tool: Tool; label: string; key: string; testId: string; glyph: string }[] = [
  { tool: 'select', label: 'Select', key: 'V', testId: 'board-select', glyph: '↖' },
  { tool: 'pen', label: 'Pen', key: 'P', testId: 'board-pen', glyph: '✎' },
  { tool: 'rect', label: 'Rectangle', key: 'R', testId: 'board-rect', glyph: '▭' },
  { tool: 'ellipse', label: 'Ellipse', key: 'O', testId: 'board-ellipse', glyph: '◯' },
  { tool: 'arrow', label: 'Arrow', key: 'A', testId: 'board-arrow', glyph: '→' },
  { tool: 'text', label: 'Text', key: 'T', testId: 'board-text', glyph: 'T' },
  { tool: 'note', label: 'Sticky note', key: 'N', testId: 'board-note', glyph: '▤' },
  { tool: 'erase', label: 'Eraser', key: 'E', testId: 'board-eraser', glyph: '' },
  { tool: 'hand', label: 'Pan', key: 'H', testId: 'board-hand', glyph: '✋' },
];

export interface BoardToolbarProps {
  tool: Tool;
  setTool(t: Tool): void;
  color: string;
  setColor(c: string): void;
  /** Fill on: new rectangles, ellipses and notes (and a selected one) are filled with the current colour. */
  fill: boolean;
  setFill(on: boolean): void;
  width: number;
  setWidth(w: number): void;
  count: number;
  canDraw: boolean;
  canUndo: boolean;
  onUndo(): void;
  canDelete: boolean;
  onDelete(): void;
  canClear: boolean;
  onClear(): void;
  zoom: number;
  onZoom(factor: number): void;
  onFit(): void;
  onExport(format: 'png' | 'svg'): void;
}

export function BoardToolbar(p: BoardToolbarProps) {
  return (
    <div className="board-toolbar" role="toolbar" aria-label="Drawing tools">
      <div className="seg" role="group" aria-label="Tool">
        {TOOLS.map((t) => (
          <button key={t.tool} type="button" className={p.tool === t.tool ? 'on' : ''} aria-pressed={p.tool === t.tool} onClick={() => p.setTool(t.tool)} title={`${t.label} (${t.key})`} aria-label={t.label} data-testid={t.testId} disabled={!p.canDraw && t.tool !== 'select' && t.tool !== 'hand'}>
            {t.tool === 'erase' ? <Icon name="eraser" size={14} /> : <span className="tool-glyph" aria-hidden="true">{t.glyph}</span>}
          </button>
        ))}
      </div>
      <div className="swatches" role="group" aria-label="Colour">
        {COLORS.map((c, i) => (
          <button key={c} type="button" className={`swatch ${c === p.color ? 'on' : ''}`} style={{ background: c }} aria-label={`Colour ${i + 1}`} aria-pressed={c === p.color} title={`Colour (${i + 1})`} onClick={() => p.setColor(c)} />
        ))}
      </div>
      <div className="seg" role="group" aria-label="Fill">
        <button type="button" className={p.fill ? 'on' : ''} aria-pressed={p.fill} onClick={() => p.setFill(!p.fill)} title={p.fill ? 'Fill: the current colour' : 'Fill: none'} aria-label="Fill with the current colour" data-testid="board-fill" data-fill={p.fill ? 'color' : 'none'} disabled={!p.canDraw}>
          <span className="fill-mark" style={{ borderColor: p.color, background: p.fill ? p.color : 'transparent' }} aria-hidden="true" />
        </button>
      </div>
      <div className="seg" role="group" aria-label="Width">
        {WIDTHS.map((w) => (
          <button key={w.value} type="button" className={w.value === p.width ? 'on' : ''} aria-pressed={w.value === p.width} onClick={() => p.setWidth(w.value)} title={w.label} aria-label={`${w.label} line`}>
            <span className="dot" style={{ width: 4 + w.value / 1.5, height: 4 + w.value / 1.5 }} />
          </button>
        ))}
      </div>
      <div className="spacer" />
      <div className="seg" role="group" aria-label="Zoom">
        <button type="button" onClick={() => p.onZoom(0.8)} title="Zoom out (-)" aria-label="Zoom out" data-testid="board-zoom-out">−</button>
        <button type="button" onClick={p.onFit} title="Fit the board" data-testid="board-zoom-fit">
          <span data-testid="board-zoom">{Math.round(p.zoom * 100)}%</span>
        </button>
        <button type="button" onClick={() => p.onZoom(1.25)} title="Zoom in (+)" aria-label="Zoom in" data-testid="board-zoom-in">+</button>
      </div>
      <span className="stroke-count muted">
        <span data-testid="board-stroke-count">{p.count}</span> {p.count === 1 ? 'object' : 'objects'}
      </span>
      <button type="button" className="ghost" onClick={p.onUndo} disabled={!p.canUndo} title="Undo your last change (Ctrl+Z)" data-testid="board-undo">
        <Icon name="undo" size={14} /> Undo
      </button>
      <button type="button" className="ghost" onClick={p.onDelete} disabled={!p.canDelete} title="Delete the selection (Delete)" data-testid="board-delete">
        <Icon name="trash" size={14} />
      </button>
      <button type="button" className="ghost danger-text" onClick={p.onClear} disabled={!p.canClear} data-testid="board-clear">
        Clear
      </button>
      <div className="seg" role="group" aria-label="Export">
        <button type="button" onClick={() => p.onExport('png')} title="Export as PNG" data-testid="board-export-png">PNG</button>
        <button type="button" onClick={() => p.onExport('svg')} title="Export as SVG" data-testid="board-export-svg">SVG</button>
      </div>
    </div>
  );
}
