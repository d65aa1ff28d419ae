/**
 * The board's objects as SVG, from the same element descriptions the exporter
 * writes (board-draw.ts), each in a group tagged `board-object` with its kind
 * (issue 18 §8), plus the draft being drawn and the selection's frame and handles.
 */
import { createElement, memo } from 'react';
import type { BoardObject } from '../../app/api/board-model.js';
import { normal, objectBox, objectNodes, type SvgNode } from './board-draw.js';

const PAPER = 'var(--board-paper)';

function Node({ node }: { node: SvgNode }) {
  const { tag, attrs, lines } = node;
  const props: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(attrs)) props[k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = v;
  if (tag !== 'text') return createElement(tag, props);
  const dy = Number(attrs['font-size']) * 1.25;
  return createElement(
    'text',
    { ...props, xmlSpace: 'preserve' },
    (lines ?? []).map((l, i) => (
      <tspan key={i} x={attrs.x} dy={i === 0 ? 0 : dy}>
        {l}
      </tspan>
    )),
  );
}

const ObjectView = memo(function ObjectView({ o, hidden }: { o: BoardObject; hidden: boolean }) {
  return (
    <g data-testid={o.kind === 'erase' ? 'board-erase-mark' : 'board-object'} data-kind={o.kind === 'note' ? 'note' : o.kind} data-fill={o.fill ?? 'none'} data-id={o.id} data-text={o.text} data-x={Math.round(o.x)} data-y={Math.round(o.y)} opacity={hidden ? 0.25 : 1}>
      {objectNodes(o, PAPER).map((n, i) => (
        <Node key={i} node={n} />
      ))}
    </g>
  );
});

function Selection({ o, zoom }: { o: BoardObject; zoom: number }) {
  const b = objectBox(o);
  const r = 5 / zoom;
  const handles = o.kind === 'arrow' ? [{ x: o.x, y: o.y }, { x: o.x + o.w, y: o.y + o.h }] : (() => {
    const n = normal(o);
    return [{ x: n.x, y: n.y }, { x: n.x + n.w, y: n.y }, { x: n.x, y: n.y + n.h }, { x: n.x + n.w, y: n.y + n.h }];
  })();
  return (
    <g className="board-selection" data-testid="board-selection" pointerEvents="none">
      <rect x={b.x - 4 / zoom} y={b.y - 4 / zoom} width={b.w + 8 / zoom} height={b.h + 8 / zoom} fill="none" stroke="var(--accent)" strokeWidth={1.5 / zoom} strokeDasharray={`${6 / zoom} ${4 / zoom}`} />
      {o.by !== null && handles.map((h, i) => <rect key={i} x={h.x - r} y={h.y - r} width={2 * r} height={2 * r} rx={r / 3} fill="var(--panel)" stroke="var(--accent)" strokeWidth={1.5 / zoom} />)}
    </g>
  );
}

export function BoardObjects({ objects, draft, selected, editingId, zoom }: { objects: BoardObject[]; draft: BoardObject | null; selected: BoardObject | null; editingId: string | null; zoom: number }) {
  return (
    <>
      {objects.map((o) => (
        <ObjectView key={o.key} o={o} hidden={o.id === editingId} />
      ))}
      {draft && (
        <g opacity={0.85}>
          {objectNodes(draft, PAPER).map((n, i) => (
            <Node key={i} node={n} />
          ))}
        </g>
      )}
      {selected && <Selection o={selected} zoom={zoom} />}
    </>
  );
}
