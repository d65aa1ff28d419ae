/**
 * Message text with clickable links and a little markdown (issue 18 §7):
 * `code`, **bold**, *italic* or _italic_, and http(s) links. Never HTML: the
 * text is split into typed parts here (pure, tested) and `RichText.tsx`
 * renders each as React text, so nothing in a message can inject markup.
 *
 * Invariants: only `http:` and `https:` URLs become links (no `javascript:`,
 * `data:` or `file:`); a link opens in a new window with `rel="noopener
 * noreferrer"`; trailing punctuation stays text ("see https://x.org." links
 * https://x.org); inside `code` nothing else is parsed. A link ends at any format
 * character, bidi embeddings and overrides are dropped from the shown text (the
 * isolates that `dir=auto` text needs stay), and RichText.tsx isolates each link
 * left-to-right: a link's text reads in the order of its address (review 31: a
 * right-to-left override showed https://bank.example/… over a link to evil.example).
 * Linear in the text's length (review 31: the regex parse was cubic).
 */
export type RichPart =
  | { kind: 'text'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'bold'; parts: RichPart[] }
  | { kind: 'italic'; parts: RichPart[] }
  | { kind: 'link'; href: string; text: string };

/** A link ends at a space, a quote or bracket of HTML, or any format character (bidi controls, zero-width characters: review 31). */
const URL_RE = /\bhttps?:\/\/[^\s<>"'`\p{Cf}]+/giu;
/** Bidi embeddings and overrides (U+202A–U+202E): they reorder what follows them, a link included (review 31); isolates stay. */
const EMBEDDINGS_AND_OVERRIDES = /[\u202A-\u202E]/g;
const TRAILING_PUNCTUATION = new Set('.,;:!?)]}\'"');

/** How many characters at the end of `url` are trailing punctuation (a backward loop: a regex anchored at `$` was quadratic on long runs, review 31). */
function trailingLength(url: string): number {
  let n = 0;
  while (n < url.length && TRAILING_PUNCTUATION.has(url[url.length - 1 - n]!)) n++;
  return n;
}

/** The host as typed in `url` (between `//` and the first `/`, `?` or `#`), lowercased. */
function typedHost(url: string): string {
  const rest = url.slice(url.indexOf('//') + 2);
  const end = rest.search(/[/?#]/);
  return (end < 0 ? rest : rest.slice(0, end)).toLowerCase();
}

/** Only format characters (or nothing) between two links: they would read as one address (review 31). */
const ONLY_FORMAT = /^\p{Cf}*$/u;

function links(text: string): RichPart[] {
  const out: RichPart[] = [];
  let at = 0;
  for (const m of text.matchAll(URL_RE)) {
    let url = m[0];
    const trail = trailingLength(url);
    // Keep a closing parenthesis that balances one inside the URL (Wikipedia links).
    const keep = trail > 0 && url[url.length - trail] === ')' && url.includes('(') ? 1 : 0;
    url = url.slice(0, url.length - trail + keep);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      continue;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') continue;
    const between = text.slice(at, m.index);
    if (out.at(-1)?.kind === 'link' && ONLY_FORMAT.test(between)) out.push({ kind: 'text', text: ` ${between}` });
    else if (between) out.push({ kind: 'text', text: between });
    // A host that does not read as the one opened (look-alike letters, a slash look-alike that
    // moves the real host further on, a user name before `@`: review 31) is shown as opened: its
    // ASCII (punycode) form, without the user name.
    const shown = typedHost(url) === parsed.host ? url : `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search}${parsed.hash}`;
    out.push({ kind: 'link', href: parsed.href, text: shown });
    at = m.index + url.length;
  }
  if (at < text.length) out.push({ kind: 'text', text: text.slice(at) });
  return out;
}

const nonEmpty = (parts: RichPart[]): RichPart[] => parts.filter((p) => p.kind !== 'text' || p.text !== '');

const SPACE = /\s/;
const WORD_OR_STAR = /[\w*]/;

/**
 * For every index k, the first index j >= k where `isCloser(j)` holds (`text.length` if none):
 * one backward pass, so finding a closer is one lookup, not a scan (review 31: the regex
 * search rescanned the rest of the text for each opener, cubic in the length, and a 16,000-
 * character message froze every member's UI for about 100 s).
 */
function nextIndex(length: number, isCloser: (j: number) => boolean): Int32Array {
  const next = new Int32Array(length + 1).fill(length);
  for (let j = length - 1; j >= 0; j--) next[j] = isCloser(j) ? j : next[j + 1]!;
  return next;
}

/**
 * Emphasis in a stretch without code, in one pass from the left: at each position a **bold**
 * opener (followed by a non-space) takes the first `**` after a non-space; otherwise a `*` or `_`
 * opener (at the start or after a character that is not a word character or `*`, followed by a
 * non-space) takes the first same delimiter after a non-space that no word character or `*`
 * follows. Inside, the same rules apply; plain stretches get their links. Linear in the length
 * (each index is visited once per nesting level, and nesting only goes inward).
 */
function emphasis(text: string): RichPart[] {
  const n = text.length;
  const nonSpace = (j: number) => j >= 0 && j < n && !SPACE.test(text[j]!);
  const boldCloser = nextIndex(n, (j) => text[j] === '*' && text[j + 1] === '*' && nonSpace(j - 1));
  const italicCloser = (d: string) => nextIndex(n, (j) => text[j] === d && nonSpace(j - 1) && !WORD_OR_STAR.test(text[j + 1] ?? ' '));
  const closers: Record<string, Int32Array> = { '*': italicCloser('*'), _: italicCloser('_') };

  const parse = (lo: number, hi: number): RichPart[] => {
    const out: RichPart[] = [];
    let plainFrom = lo;
    const flush = (to: number) => {
      if (to > plainFrom) out.push(...links(text.slice(plainFrom, to)));
    };
    let i = lo;
    while (i < hi) {
      const c = text[i]!;
      if (c === '*' && text[i + 1] === '*' && i + 2 < hi && nonSpace(i + 2)) {
        const j = boldCloser[Math.min(i + 3, n)]!;
        if (j + 2 <= hi) {
          flush(i);
          out.push({ kind: 'bold', parts: parse(i + 2, j) });
          i = plainFrom = j + 2;
          continue;
        }
      }
      if ((c === '*' || c === '_') && i + 1 < hi && nonSpace(i + 1) && (i === lo || !WORD_OR_STAR.test(text[i - 1]!))) {
        // A closer just before `hi` counts whatever follows it outside this stretch.
        let j = closers[c]![Math.min(i + 2, n)]!;
        if (j >= hi - 1 && hi - 1 >= i + 2 && text[hi - 1] === c && nonSpace(hi - 2)) j = hi - 1;
        if (j < hi) {
          flush(i);
          out.push({ kind: 'italic', parts: parse(i + 1, j) });
          i = plainFrom = j + 1;
          continue;
        }
      }
      i++;
    }
    flush(hi);
    return nonEmpty(out);
  };
  return parse(0, n);
}

export function richParts(sent: string): RichPart[] {
  const text = sent.replace(EMBEDDINGS_AND_OVERRIDES, '');
  const out: RichPart[] = [];
  const re = /`([^`\n]+)`/g;
  let at = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > at) out.push(...emphasis(text.slice(at, m.index)));
    out.push({ kind: 'code', text: m[1]! });
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(...emphasis(text.slice(at)));
  return out;
}
