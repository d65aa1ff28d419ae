/** Stable per-person colours and short forms of long identifiers. */

/** Well-separated hues: neighbours in a small group rarely look alike. */
const HUES = [212, 148, 28, 276, 352, 186, 46, 112, 248, 318, 8, 164];

/** FNV-1a over the string picks a stable hue for a peer, the same on every screen. */
export function hueOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return HUES[(h >>> 0) % HUES.length]!;
}

/** `12D3KooW…x9Qa`: enough to tell peers apart without a wall of base58. */
export function shortId(id: string, head = 6, tail = 4): string {
  return id.length <= head + tail + 1 ? id : `${id.slice(0, head)}…${id.slice(-tail)}`;
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length >= 2 ? parts[0]![0]! + parts[1]![0]! : (parts[0] ?? '?').slice(0, 2);
  return letters.toUpperCase();
}

/** A participant ID (003 [0048]) written as its W symbols. */
export function symbolsText(symbols: readonly number[]): string {
  return symbols.join(' · ');
}
