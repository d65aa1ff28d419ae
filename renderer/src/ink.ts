/**
 * Freehand strokes that look like ink (issue 18 §4): the points of a stroke
 * become the outline of a filled shape whose width follows a simulated pen
 * pressure. No real pressure is recorded: as with a fountain pen, a fast
 * movement (points far apart) thins the line and a slow one thickens it. The
 * points are first streamlined (each pulled toward the previous one) so a
 * shaky hand draws a calm line; the pressure itself is eased from point to
 * point so the width never jumps; both ends taper.
 *
 * Pure geometry: points in, an SVG path `d` out (board coordinates), the same
 * on every screen and in an exported SVG or PNG.
 */
type P = { x: number; y: number };

const STREAMLINE = 0.45;
const PRESSURE_EASE = 0.3;
const THINNING = 0.85;
const TAPER_POINTS = 4;

const fmt = (n: number): string => (Math.round(n * 100) / 100).toString();

/** Each point pulled toward the smoothed previous one; near-duplicates dropped. */
function streamline(points: readonly P[]): P[] {
  const out: P[] = [];
  for (const p of points) {
    const prev = out[out.length - 1];
    if (!prev) {
      out.push({ x: p.x, y: p.y });
      continue;
    }
    const q = { x: prev.x + (p.x - prev.x) * (1 - STREAMLINE), y: prev.y + (p.y - prev.y) * (1 - STREAMLINE) };
    if (Math.hypot(q.x - prev.x, q.y - prev.y) >= 0.25) out.push(q);
  }
  const last = points[points.length - 1];
  if (last && out.length > 1) out.push({ x: last.x, y: last.y });
  return out;
}

/** Radii along the stroke: speed-derived pressure, eased, tapered at both ends. */
function radii(points: readonly P[], width: number): number[] {
  let pressure = 0.6;
  const out: number[] = [];
  for (let i = 0; i < points.length; i++) {
    const d = i === 0 ? 0 : Math.hypot(points[i]!.x - points[i - 1]!.x, points[i]!.y - points[i - 1]!.y);
    const speed = Math.min(1, d / (width * 2.5));
    pressure += (1 - speed - pressure) * PRESSURE_EASE;
    let r = (width / 2) * (1 - THINNING * (0.5 - pressure));
    const fromEnd = Math.min(i, points.length - 1 - i);
    if (fromEnd < TAPER_POINTS && points.length > TAPER_POINTS * 2) r *= 0.35 + (0.65 * fromEnd) / TAPER_POINTS;
    out.push(Math.max(width * 0.12, r));
  }
  return out;
}

function circle(p: P, r: number): string {
  return `M ${fmt(p.x - r)} ${fmt(p.y)} a ${fmt(r)} ${fmt(r)} 0 1 0 ${fmt(2 * r)} 0 a ${fmt(r)} ${fmt(r)} 0 1 0 ${fmt(-2 * r)} 0 Z`;
}

/** A closed curve through `pts`, smoothed with quadratic segments between midpoints. */
function smoothClosed(pts: P[]): string {
  if (pts.length < 3) return '';
  const mid = (a: P, b: P): P => ({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });
  const start = mid(pts[pts.length - 1]!, pts[0]!);
  let d = `M ${fmt(start.x)} ${fmt(start.y)}`;
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i]!;
    const m = mid(p, pts[(i + 1) % pts.length]!);
    d += ` Q ${fmt(p.x)} ${fmt(p.y)} ${fmt(m.x)} ${fmt(m.y)}`;
  }
  return `${d} Z`;
}

/** The outline of a freehand stroke of nominal `width` through `points`, as an SVG path. */
export function inkPath(points: readonly P[], width: number): string {
  const pts = streamline(points);
  if (pts.length === 0) return '';
  const rs = radii(pts, width);
  if (pts.length === 1) return circle(pts[0]!, rs[0]!);
  const left: P[] = [];
  const right: P[] = [];
  for (let i = 0; i < pts.length; i++) {
    const a = pts[Math.max(0, i - 1)]!;
    const b = pts[Math.min(pts.length - 1, i + 1)]!;
    const len = Math.hypot(b.x - a.x, b.y - a.y) || 1;
    const nx = -(b.y - a.y) / len;
    const ny = (b.x - a.x) / len;
    const p = pts[i]!;
    left.push({ x: p.x + nx * rs[i]!, y: p.y + ny * rs[i]! });
    right.push({ x: p.x - nx * rs[i]!, y: p.y - ny * rs[i]! });
  }
  // Round caps: a few points on a half circle around each end.
  const cap = (p: P, from: P, r: number): P[] => {
    const a0 = Math.atan2(from.y - p.y, from.x - p.x);
    return [1, 2, 3, 4, 5].map((k) => ({ x: p.x + Math.cos(a0 - (k * Math.PI) / 6) * r, y: p.y + Math.sin(a0 - (k * Math.PI) / 6) * r }));
  };
  const end = pts.length - 1;
  const outline = [...left, ...cap(pts[end]!, left[end]!, rs[end]!), ...right.reverse(), ...cap(pts[0]!, right[right.length - 1]!, rs[0]!)];
  return smoothClosed(outline);
}
