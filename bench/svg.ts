/**
 * @module bench/svg
 * A small line-chart renderer to SVG (no dependency): one or more series of
 * (x, y) points, linear or log10 axes, ticks at powers of ten (log) or at round
 * steps (linear), a legend, and a title. Text is escaped; points with a
 * non-finite (no measurement) or, on a log axis, non-positive value are left out
 * of the line and listed under the chart as "not shown".
 */

export interface Series {
  name: string;
  points: { x: number; y: number }[];
  /** Stroke colour; defaults to a palette by index. */
  color?: string;
  dashed?: boolean;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  xLog?: boolean;
  yLog?: boolean;
  width?: number;
  height?: number;
  /** A horizontal reference line (e.g. a target), drawn dashed. */
  reference?: { y: number; label: string };
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A compact human label for a tick value: 1k, 10k, 0.01, 2.5 MB-style digits. */
export function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e3) return `${trim(v / 1e3)}k`;
  if (a >= 1) return trim(v);
  return String(Number(v.toPrecision(2)));
}

function trim(v: number): string {
  return String(Number(v.toFixed(v >= 100 || v <= -100 ? 0 : 1)));
}

interface Axis {
  lo: number;
  hi: number;
  log: boolean;
  ticks: number[];
}

function axis(values: number[], log: boolean, extra: number[] = []): Axis {
  const all = [...values, ...extra].filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (all.length === 0) return { lo: log ? 1 : 0, hi: log ? 10 : 1, log, ticks: log ? [1, 10] : [0, 1] };
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (log) {
    const lo10 = Math.floor(Math.log10(lo));
    let hi10 = Math.ceil(Math.log10(hi));
    if (hi10 === lo10) hi10++;
    const ticks: number[] = [];
    // Few decades: label 2× and 5× too, so the reader is not left with two ticks.
    const steps = hi10 - lo10 <= 2 ? [1, 2, 5] : [1];
    for (let e = lo10; e <= hi10; e++) for (const s of steps) if (s * 10 ** e <= 10 ** hi10) ticks.push(s * 10 ** e);
    return { lo: 10 ** lo10, hi: 10 ** hi10, log, ticks };
  }
  if (lo > 0) lo = 0;
  if (hi === lo) hi = lo + 1;
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.floor(lo / step) * step; t <= hi + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  return { lo: ticks[0] ?? lo, hi: ticks[ticks.length - 1] ?? hi, log, ticks };
}

function scale(a: Axis, v: number, from: number, to: number): number {
  const f = a.log ? (Math.log10(v) - Math.log10(a.lo)) / (Math.log10(a.hi) - Math.log10(a.lo)) : (v - a.lo) / (a.hi - a.lo);
  return from + f * (to - from);
}

const shown = (log: boolean) => (v: number) => Number.isFinite(v) && (!log || v > 0);

export function renderChart(spec: ChartSpec): string {
  const W = spec.width ?? 760;
  const H = spec.height ?? 460;
  const m = { left: 78, right: 170, top: 44, bottom: 62 };
  const xOk = shown(spec.xLog ?? false);
  const yOk = shown(spec.yLog ?? false);
  const pts = spec.series.flatMap((s) => s.points);
  const xa = axis(pts.map((p) => p.x).filter(xOk), spec.xLog ?? false);
  const ya = axis(pts.map((p) => p.y).filter(yOk), spec.yLog ?? false, spec.reference ? [spec.reference.y] : []);
  const X = (v: number) => scale(xa, v, m.left, W - m.right);
  const Y = (v: number) => scale(ya, v, H - m.bottom, m.top);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="13">`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(spec.title)}</text>`);
  // grid and ticks
  for (const t of xa.ticks) {
    const x = X(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${m.top}" x2="${x}" y2="${H - m.bottom}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x}" y="${H - m.bottom + 18}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`);
  }
  for (const t of ya.ticks) {
    const y = Y(t).toFixed(1);
    out.push(`<line x1="${m.left}" y1="${y}" x2="${W - m.right}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 8}" y="${(Number(y) + 4).toFixed(1)}" text-anchor="end">${escapeXml(formatTick(t))}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${W - m.left - m.right}" height="${H - m.top - m.bottom}" fill="none" stroke="#333"/>`);
  const xl = spec.xLabel + (spec.xLog ? ' (log scale)' : '');
  const yl = spec.yLabel + (spec.yLog ? ' (log scale)' : '');
  out.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 18}" text-anchor="middle">${escapeXml(xl)}</text>`);
  out.push(`<text transform="translate(20 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yl)}</text>`);
  if (spec.reference && yOk(spec.reference.y)) {
    const y = Y(spec.reference.y).toFixed(1);
    out.push(`<line x1="${m.left}" y1="${y}" x2="${W - m.right}" y2="${y}" stroke="#777" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${m.left + 6}" y="${(Number(y) - 5).toFixed(1)}" fill="#555">${escapeXml(spec.reference.label)}</text>`);
  }
  const hidden: string[] = [];
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const visible = s.points.filter((p) => xOk(p.x) && yOk(p.y)).sort((a, b) => a.x - b.x);
    for (const p of s.points) if (!(xOk(p.x) && yOk(p.y))) hidden.push(`${s.name} at ${p.x}: ${Number.isFinite(p.y) ? p.y : 'no value'}`);
    if (visible.length > 1) {
      const d = visible.map((p, j) => `${j === 0 ? 'M' : 'L'}${X(p.x).toFixed(1)} ${Y(p.y).toFixed(1)}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2.2"${s.dashed ? ' stroke-dasharray="7 4"' : ''}/>`);
    }
    for (const p of visible) {
      out.push(`<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="3.6" fill="${color}" data-series="${escapeXml(s.name)}" data-x="${p.x}" data-y="${p.y}"><title>${escapeXml(`${s.name}: ${p.x} → ${p.y}`)}</title></circle>`);
    }
    const ly = m.top + 14 + i * 22;
    out.push(`<line x1="${W - m.right + 14}" y1="${ly}" x2="${W - m.right + 40}" y2="${ly}" stroke="${color}" stroke-width="2.2"${s.dashed ? ' stroke-dasharray="7 4"' : ''}/>`);
    out.push(`<text x="${W - m.right + 46}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  if (hidden.length > 0) {
    out.push(`<text x="${m.left}" y="${H - 4}" font-size="10" fill="#777">not shown: ${escapeXml(hidden.slice(0, 4).join('; '))}${hidden.length > 4 ? ' …' : ''}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}
