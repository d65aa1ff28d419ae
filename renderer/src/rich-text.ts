/**
 * Message text with clickable links and a little markdown (issue 18 §7):
 * `code`, **bold**, *italic* or _italic_, and http(s) links. Never HTML: the
 * text is split into typed parts here (pure, tested) and `RichText.tsx`
 * renders each as React text, so nothing in a message can inject markup.
 *
 * Invariants: only `http:` and `https:` URLs become links (no `javascript:`,
 * `data:` or `file:`); a link opens in a new window with `rel="noopener
 * noreferrer"`; trailing punctuation stays text ("see https://x.org." links
 * https://x.org); inside `code` nothing else is parsed.
 */
export type RichPart =
  | { kind: 'text'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'bold'; parts: RichPart[] }
  | { kind: 'italic'; parts: RichPart[] }
  | { kind: 'link'; href: string; text: string };

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?)\]}'"]+$/;

function links(text: string): RichPart[] {
  const out: RichPart[] = [];
  let at = 0;
  for (const m of text.matchAll(URL_RE)) {
    let url = m[0];
    const trail = TRAILING.exec(url)?.[0] ?? '';
    // Keep a closing parenthesis that balances one inside the URL (Wikipedia links).
    const keep = trail.startsWith(')') && (url.match(/\(/g)?.length ?? 0) > 0 ? 1 : 0;
    url = url.slice(0, url.length - trail.length + keep);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      continue;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') continue;
    if (m.index > at) out.push({ kind: 'text', text: text.slice(at, m.index) });
    out.push({ kind: 'link', href: parsed.href, text: url });
    at = m.index + url.length;
  }
  if (at < text.length) out.push({ kind: 'text', text: text.slice(at) });
  return out;
}

const nonEmpty = (parts: RichPart[]): RichPart[] => parts.filter((p) => p.kind !== 'text' || p.text !== '');

/** Emphasis inside a stretch without code: **bold** first, then *italic* / _italic_. */
function emphasis(text: string): RichPart[] {
  const bold = /\*\*(?=\S)([\s\S]*?\S)\*\*/.exec(text);
  if (bold) {
    const middle: RichPart = { kind: 'bold', parts: emphasis(bold[1]!) };
    return nonEmpty([...emphasis(text.slice(0, bold.index)), middle, ...emphasis(text.slice(bold.index + bold[0].length))]);
  }
  const italic = /(^|[^\w*])([*_])(?=\S)([\s\S]*?\S)\2(?![\w*])/.exec(text);
  if (italic) {
    const start = italic.index + italic[1]!.length;
    const middle: RichPart = { kind: 'italic', parts: emphasis(italic[3]!) };
    return nonEmpty([...emphasis(text.slice(0, start)), middle, ...emphasis(text.slice(start + italic[0].length - italic[1]!.length))]);
  }
  return links(text);
}

export function richParts(text: string): RichPart[] {
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
