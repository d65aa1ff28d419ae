/**
 * Stable per-person colours, initials and short forms of long identifiers.
 *
 * Colours: `hueOf` hashes an ID to one of 12 hues, the same on every screen, but
 * two IDs can hash alike. Within a group, `memberHues` gives every member a
 * different hue (up to 12 members): members are taken in peer-ID order, each
 * takes its hashed hue or, if taken, the next free one. Every screen of the
 * group sees the same roster, so every screen agrees.
 *
 * Initials are whole graphemes (an emoji, a flag, an accented letter), never
 * half of a surrogate pair.
 */

/** Well-separated hues: neighbours in a small group rarely look alike. */
const HUES = [212, 148, 28, 276, 352, 186, 46, 112, 248, 318, 8, 164];

function hueIndex(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % HUES.length;
}

/** FNV-1a over the string picks a stable hue for a peer, the same on every screen. */
export function hueOf(id: string): number {
  return HUES[hueIndex(id)]!;
}

/** One hue per member of a group, distinct while the group has at most 12 members. */
export function memberHues(ids: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  const taken = new Set<number>();
  for (const id of [...new Set(ids)].sort()) {
    const start = hueIndex(id);
    let pick = start;
    for (let step = 0; step < HUES.length; step++) {
      const i = (start + step) % HUES.length;
      if (!taken.has(i)) {
        pick = i;
        break;
      }
    }
    taken.add(pick);
    out.set(id, HUES[pick]!);
  }
  return out;
}

/** The hue of `id` among `hues` (a group's members), or its own hashed hue. */
export function hueAmong(hues: ReadonlyMap<string, number>, id: string): number {
  return hues.get(id) ?? hueOf(id);
}

/** `12D3KooW…x9Qa`: enough to tell peers apart without a wall of base58. */
export function shortId(id: string, head = 6, tail = 4): string {
  return id.length <= head + tail + 1 ? id : `${id.slice(0, head)}…${id.slice(-tail)}`;
}

/** The user-perceived characters of a string. */
export function graphemes(text: string): string[] {
  if (typeof Intl !== 'undefined' && typeof Intl.Segmenter === 'function') {
    return Array.from(new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text), (s) => s.segment);
  }
  return Array.from(text); // code points: at least never half a surrogate pair
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean).map(graphemes);
  const letters = parts.length >= 2 ? parts[0]![0]! + parts[1]![0]! : (parts[0] ?? ['?']).slice(0, 2).join('');
  return letters.toUpperCase();
}

/** A participant ID (003 [0048]) written as its W symbols. */
export function symbolsText(symbols: readonly number[]): string {
  return symbols.join(' · ');
}
