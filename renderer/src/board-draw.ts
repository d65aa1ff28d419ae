/**
 * How a board object is drawn, as plain SVG element descriptions: the board
 * component renders them as React elements, the exporter writes them as SVG
 * text (and the PNG export rasterises that text), so the screen, the SVG and
 * the PNG show the same picture. Also the geometry the editor needs: where an
 * object is (its box), what a point hits, and the box of a whole board.
 *
 * Object boxes: (x, y, w, h) in board units. Rectangles, ellipses, text and
 * notes are drawn in the normalised box; an arrow runs from (x, y) to
 * (x + w, y + h); ink points are mapped from their own bounds onto the box.
 */
import { boundsOf, type BoardObject } from '../../app/api/board-model.js';
import { inkPath } from './ink.js';

export interface SvgNode {
  tag: 'path' | 'rect' | 'ellipse' | 'text';
  attrs: Record<string, string | number>;
  /** Text lines (a `text` node): one tspan each. */
  lines?: string[];
}

export type Box = { x: number; y: number; w: number; h: number };
type P = { x: number; y: number };

export const NOTE_FILL = '#fde68a';
export const NOTE_FONT = 18;
/** Kinds the fill control applies to (the toolbar's `board-fill`). */
export const FILLABLE: ReadonlySet<BoardObject['kind']> = new Set(['rect', 'ellipse', 'note']);

/**
 * The fill "the current colour" gives an object of `kind`: the colour itself for a
 * rectangle or an ellipse, a pale tint of it for a sticky note (its text stays
 * readable). No fill: none for shapes, the default yellow (NOTE_FILL) for notes.
 */
export function fillFor(kind: BoardObject['kind'], color: string): string {
  if (kind !== 'note') return color;
  const c = Number.parseInt(color.slice(1), 16);
  const tint = (v: number) => Math.round(v + (255 - v) * 0.72);
  return `#${[(c >> 16) & 255, (c >> 8) & 255, c & 255].map((v) => tint(v).toString(16).padStart(2, '0')).join('')}`;
}

/** Whether `o` is filled by choice (a note's default yellow is not). */
export function isFilled(o: Pick<BoardObject, 'kind' | 'fill'>): boolean {
  return FILLABLE.has(o.kind) && o.fill !== undefined && !(o.kind === 'note' && o.fill === NOTE_FILL);
}
const FONT = 'Inter, system-ui, sans-serif';

/** The box with positive width and height. */
export function normal(b: Box): Box {
  return { x: Math.min(b.x, b.x + b.w), y: Math.min(b.y, b.y + b.h), w: Math.abs(b.w), h: Math.abs(b.h) };
}

/** Ink points in board coordinates (their own bounds mapped onto the object's box). */
export function inkPoints(o: Pick<BoardObject, 'x' | 'y' | 'w' | 'h' | 'points'>): P[] {
  const pts = o.points ?? [];
  const b = boundsOf(pts);
  const sx = b.w > 0 ? o.w / b.w : 1;
  const sy = b.h > 0 ? o.h / b.h : 1;
  return pts.map((p) => ({ x: o.x + (p.x - b.x) * sx, y: o.y + (p.y - b.y) * sy }));
}

/** Font size of a text object: its box height shared by its lines. */
export function textFont(o: Pick<BoardObject, 'h' | 'text'>): number {
  const lines = Math.max(1, (o.text ?? '').split('\n').length);
  return Math.max(4, Math.abs(o.h) / lines / 1.25);
}

/** A text's box for `text` at font size `font` (an estimate: 0.6 em per character). */
export function textBox(text: string, font: number): { w: number; h: number } {
  const lines = text.split('\n');
  return { w: Math.max(font, Math.max(...lines.map((l) => [...l].length)) * font * 0.6), h: lines.length * font * 1.25 };
}

/** Wraps `text` to lines of at most `chars` characters (words kept whole where they fit). */
export function wrap(text: string, chars: number): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(' ')) {
      const next = line ? `${line} ${word}` : word;
      if ([...next].length <= chars || !line) line = next;
      else {
        out.push(line);
        line = word;
      }
    }
    out.push(line);
  }
  return out;
}

function arrowHead(a: P, b: P, width: number): string {
  const len = Math.hypot(b.x - a.x, b.y - a.y) || 1;
  const size = Math.min(len * 0.4, 10 + width * 2.5);
  const ux = (b.x - a.x) / len;
  const uy = (b.y - a.y) / len;
  const side = (s: number) => `${b.x - ux * size + -uy * size * 0.55 * s} ${b.y - uy * size + ux * size * 0.55 * s}`;
  return `M ${side(1)} L ${b.x} ${b.y} L ${side(-1)}`;
}

/** The SVG elements that draw `o`. `paper`: the board's background (what legacy erase strokes paint). */
export function objectNodes(o: BoardObject, paper: string): SvgNode[] {
  const n = normal(o);
  const line = { stroke: o.color, 'stroke-width': o.width, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' } as const;
  switch (o.kind) {
    case 'rect':
      return [{ tag: 'rect', attrs: { ...line, x: n.x, y: n.y, width: n.w, height: n.h, rx: 4, fill: o.fill ?? 'none' } }];
    case 'ellipse':
      return [{ tag: 'ellipse', attrs: { ...line, cx: n.x + n.w / 2, cy: n.y + n.h / 2, rx: n.w / 2, ry: n.h / 2, fill: o.fill ?? 'none' } }];
    case 'arrow': {
      const a = { x: o.x, y: o.y };
      const b = { x: o.x + o.w, y: o.y + o.h };
      return [{ tag: 'path', attrs: { ...line, fill: 'none', d: `M ${a.x} ${a.y} L ${b.x} ${b.y} ${arrowHead(a, b, o.width)}` } }];
    }
    case 'text': {
      const font = textFont(o);
      return [{ tag: 'text', attrs: { x: n.x, y: n.y + font, fill: o.color, 'font-size': font, 'font-family': FONT }, lines: (o.text ?? '').split('\n') }];
    }
    case 'note': {
      const lines = wrap(o.text ?? '', Math.max(4, Math.floor((n.w - 20) / (NOTE_FONT * 0.56)))).slice(0, Math.max(1, Math.floor((n.h - 16) / (NOTE_FONT * 1.25))));
      return [
        { tag: 'rect', attrs: { x: n.x, y: n.y, width: n.w, height: n.h, rx: 6, fill: o.fill ?? NOTE_FILL, stroke: '#00000022', 'stroke-width': 1 } },
        { tag: 'text', attrs: { x: n.x + 10, y: n.y + 10 + NOTE_FONT, fill: o.color, 'font-size': NOTE_FONT, 'font-family': FONT }, lines },
      ];
    }
    case 'ink':
    case 'erase':
      return [{ tag: 'path', attrs: { d: inkPath(inkPoints(o), o.width), fill: o.kind === 'erase' ? paper : o.color } }];
  }
}

/** The box an object covers (an arrow's: its two ends; ink: its points plus the line width). */
export function objectBox(o: BoardObject): Box {
  const n = normal(o);
  const pad = o.kind === 'ink' || o.kind === 'erase' || o.kind === 'arrow' ? o.width : 0;
  return { x: n.x - pad, y: n.y - pad, w: n.w + 2 * pad, h: n.h + 2 * pad };
}

function distToSegment(p: P, a: P, b: P): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const t = dx === 0 && dy === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

/** Does the point hit the object (within `tol` board units of its drawn lines, or inside a filled one)? */
export function hits(o: BoardObject, p: P, tol: number): boolean {
  const b = objectBox(o);
  if (p.x < b.x - tol || p.x > b.x + b.w + tol || p.y < b.y - tol || p.y > b.y + b.h + tol) return false;
  if (o.kind === 'arrow') return distToSegment(p, { x: o.x, y: o.y }, { x: o.x + o.w, y: o.y + o.h }) <= tol + o.width;
  if (o.kind === 'ink' || o.kind === 'erase') {
    const pts = inkPoints(o);
    if (pts.length === 1) return Math.hypot(p.x - pts[0]!.x, p.y - pts[0]!.y) <= tol + o.width;
    for (let i = 1; i < pts.length; i++) if (distToSegment(p, pts[i - 1]!, pts[i]!) <= tol + o.width) return true;
    return false;
  }
  return true; // shapes, text and notes: anywhere in their box
}

/** The topmost object at `p` (erase marks are paint, not objects to pick). */
export function topAt(objects: readonly BoardObject[], p: P, tol: number): BoardObject | undefined {
  for (let i = objects.length - 1; i >= 0; i--) if (objects[i]!.kind !== 'erase' && hits(objects[i]!, p, tol)) return objects[i];
  return undefined;
}

/** The box around every object (null: an empty board). */
export function boardBounds(objects: readonly BoardObject[]): Box | null {
  if (objects.length === 0) return null;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const o of objects) {
    const b = objectBox(o);
    x0 = Math.min(x0, b.x);
    y0 = Math.min(y0, b.y);
    x1 = Math.max(x1, b.x + b.w);
    y1 = Math.max(y1, b.y + b.h);
  }
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/**
 * Characters XML 1.0 does not allow anywhere, not even as references (its `Char` production): C0
 * controls but tab, LF and CR; U+FFFE, U+FFFF; unpaired surrogates. One of them in a member's board
 * text made the exported SVG ill-formed, so the PNG export failed for everyone (review 31's
 * suspicion, shown in renderer-ink-draw.test.ts). They are written as U+FFFD.
 */
// eslint-disable-next-line no-control-regex -- these are the characters it finds
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const escapeXml = (s: string): string => s.replace(NOT_XML, '\uFFFD').replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function nodeXml(node: SvgNode): string {
  const attrs = Object.entries(node.attrs)
    .map(([k, v]) => `${k}="${escapeXml(String(v))}"`)
    .join(' ');
  if (node.tag !== 'text') return `<${node.tag} ${attrs}/>`;
  const x = node.attrs.x;
  const dy = Number(node.attrs['font-size']) * 1.25;
  const spans = (node.lines ?? []).map((l, i) => `<tspan x="${x}" dy="${i === 0 ? 0 : dy}">${escapeXml(l)}</tspan>`).join('');
  return `<text ${attrs} xml:space="preserve">${spans}</text>`;
}

/** The whole board as a standalone SVG document (with a margin and the paper colour). */
export function boardSvg(objects: readonly BoardObject[], paper = '#ffffff', margin = 24): { svg: string; width: number; height: number } {
  const b = boardBounds(objects) ?? { x: 0, y: 0, w: 400, h: 300 };
  const box = { x: b.x - margin, y: b.y - margin, w: b.w + 2 * margin, h: b.h + 2 * margin };
  const width = Math.ceil(box.w);
  const height = Math.ceil(box.h);
  const body = objects.flatMap((o) => objectNodes(o, paper).map(nodeXml)).join('\n');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="${box.x} ${box.y} ${box.w} ${box.h}">\n<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" fill="${paper}"/>\n${body}\n</svg>\n`;
  return { svg, width, height };
}
