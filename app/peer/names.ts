/**
 * @module peer/names
 * What this peer shows for names other members chose: display names (a roster
 * entry's name, which its owner picked when it joined), file names and group
 * names. Every one of them is peer input, shown beside names this peer vouches
 * for, so:
 *
 * - `shownText` drops what reorders or hides text: bidi embeddings, overrides and
 *   isolates (U+202A–202E, U+2066–2069), the bidi marks (U+200E, U+200F, U+061C),
 *   zero-width space, word joiner, invisible operators and BOM, and C0/C1 control
 *   characters; runs of white space become one space. A file named
 *   `invoice_2026\u202Efdp.exe` was shown as "invoice_2026exe.pdf" and saved as
 *   an .exe (review 29). Zero-width joiners stay (emoji sequences and several
 *   scripts need them); `nameKey` ignores them.
 * - A message's sender is named by its roster entry, never by a name inside the message: a
 *   member that joined with an empty name and put another member's name, or "Conclave · system",
 *   in each message was shown under that name (review 29). An empty roster name is shown as
 *   `member` and the key's first 8 hex digits. Only a sender whose roster entry has no name yet
 *   (a newcomer whose admission is news here: its first messages often come first, and an entry
 *   made by its key request has no name) is shown under the name its message claims, marked
 *   with its key when that name is taken (`labelUnlisted`); a claimed "Alice" from anyone but
 *   Alice reads "Alice (1f2e)".
 * - `MemberNames.label` marks a name two roster entries share (or one shares with
 *   this member's own name), compared by `nameKey` (NFKC, case folded, invisible
 *   characters and spaces ignored, look-alike letters of other scripts and
 *   digits folded to the Latin letter they read as: Cyrillic а for a, Greek ο
 *   for o, a capital I for l), with the first 4 hex digits of the key, so that
 *   no member can take another's name. The folding is a list, not Unicode's
 *   whole table of confusables: a rarer look-alike still passes (the avatar
 *   colour and the members list's peer IDs tell those apart).
 *
 * Pure: `MemberNames` is given the roster (engine `members()`) and this member's
 * own name, and is rebuilt when either changes.
 */
import type { MemberKey } from '../core/types.js';

/**
 * Bidi controls and marks, invisible formatting characters (soft hyphen, combining grapheme
 * joiner, Hangul fillers, Khmer inherent vowels, Mongolian selectors, deprecated format
 * characters), C0 and C1 controls: review 29's second pass found `Ali<U+00AD>ce` shown as
 * "Alice" beside the real one, and a name of U+3164 alone shown blank. Review 31 added the
 * blank Braille pattern U+2800 (a name of it alone was blank; 200 of them pushed a file name's
 * real extension out of sight), tag characters and the musical formatting controls.
 */
// eslint-disable-next-line no-control-regex, no-misleading-character-class -- control and combining characters, each by its escape, are what this strips
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b\u200e\u200f\u202a-\u202e\u2060-\u206f\u2800\u3164\ufeff\uffa0\u{1d173}-\u{1d17a}\u{e0000}-\u{e007f}]/gu;
/** Also ignored when two names are compared: joiners, variation selectors, tag characters and every kind of space. */
// eslint-disable-next-line no-misleading-character-class -- joiners and selectors, each by its escape, are what this ignores
const IGNORED_IN_KEY = /[\u200c\u200d\ufe00-\ufe0f\u{e0000}-\u{e007f}\s]/gu;

/** A peer-chosen name as this peer shows it (see the module header). */
export function shownText(raw: string): string {
  return raw.replace(HIDDEN, '').replace(/\s+/gu, ' ').trim();
}

/**
 * Letters of other scripts (and digits) that read as a Latin letter, folded to it when names are
 * compared (review 30): "Аlice" with a Cyrillic А was shown as a second "Alice" beside the real
 * one. Folded after NFKC and lower-casing; `i`, `l`, `1` and `|` all read as `l` (a capital I and
 * a small l look alike in most faces), `0` as `o`. Two names folded together only gain each a
 * key mark, so folding too much costs nothing but a mark.
 */
const LOOK_ALIKE: Record<string, string> = {
  // Cyrillic
  а: 'a', в: 'b', г: 'r', д: 'a', е: 'e', ё: 'e', з: '3', к: 'k', м: 'm', н: 'h', о: 'o', п: 'n', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', ъ: 'b', ь: 'b', ѕ: 's', і: 'l', ї: 'l', ј: 'j', һ: 'h', ԁ: 'd', ԛ: 'q', ԝ: 'w', ӏ: 'l', ү: 'y', ҽ: 'e', ɡ: 'g',
  // Greek
  α: 'a', β: 'b', γ: 'y', ε: 'e', η: 'n', ι: 'l', κ: 'k', μ: 'u', ν: 'v', ο: 'o', ρ: 'p', σ: 'o', τ: 't', υ: 'u', χ: 'x', ω: 'w', ϲ: 'c', ϳ: 'j', ς: 'c',
  // Latin look-alikes, digits and signs
  ı: 'l', ɩ: 'l', i: 'l', '1': 'l', '|': 'l', ǀ: 'l', ʟ: 'l', ɑ: 'a', '0': 'o', ø: 'o', ß: 'b', ð: 'd', þ: 'p',
};
const LOOK_ALIKE_CHARS = new RegExp(`[${Object.keys(LOOK_ALIKE).join('')}]`, 'gu'); // none of the keys is special in a class

/** Two names that fold to the same key look the same to a reader (invisible characters, case, look-alike letters). */
export function nameKey(raw: string): string {
  return shownText(raw)
    .normalize('NFKC')
    .toLowerCase()
    .replace(IGNORED_IN_KEY, '')
    .replace(LOOK_ALIKE_CHARS, (c) => LOOK_ALIKE[c] ?? c);
}

/**
 * Hex digits of a member key that tell two members of one name apart (review 31: 4 digits, 16
 * bits, were ground in about 65,000 key generations, so an insider joined as "Alice" with Alice's
 * very mark). 12 digits are 48 bits: about 2^48 key generations, centuries of one core here.
 */
export const KEY_MARK_HEX = 12;

/** The label of a roster entry without a usable name. */
export function unnamedLabel(key: MemberKey): string {
  return `member ${key.slice(0, KEY_MARK_HEX)}`;
}

export class MemberNames {
  /** nameKey → how many roster entries (and this member's own name) carry it. */
  private readonly counts = new Map<string, number>();
  private readonly names = new Map<MemberKey, string>();

  constructor(roster: Iterable<{ key: MemberKey; name: string }>, selfKey: MemberKey, selfName: string) {
    for (const m of roster) {
      if (m.key === selfKey) continue;
      this.names.set(m.key, m.name);
      this.count(m.name);
    }
    this.names.set(selfKey, selfName);
    this.count(selfName);
  }

  private count(name: string): void {
    const k = nameKey(name);
    if (k) this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  /** Whether `key` is named in the roster this was built from. */
  knows(key: MemberKey): boolean {
    return this.names.has(key);
  }

  /**
   * What to show for a key the roster does not list yet (a newcomer whose admission is news
   * here; its first messages often come first): the name its message claims, marked with its
   * key when that name is one a listed member or this member carries, else the unnamed label.
   */
  labelUnlisted(key: MemberKey, claimed: string): string {
    const k = nameKey(claimed);
    if (!k) return unnamedLabel(key);
    return this.counts.has(k) ? `${shownText(claimed)} (${key.slice(0, KEY_MARK_HEX)})` : shownText(claimed);
  }

  /** Whether `key`'s roster entry carries a name (an entry made by a key request has none until its admission's news brings it). */
  named(key: MemberKey): boolean {
    return nameKey(this.names.get(key) ?? '') !== '';
  }

  /** What to show for `key`: its roster name, marked with its key when another entry shares it. */
  label(key: MemberKey): string {
    const raw = this.names.get(key) ?? '';
    const k = nameKey(raw);
    if (!k) return unnamedLabel(key);
    return (this.counts.get(k) ?? 0) > 1 ? `${shownText(raw)} (${key.slice(0, KEY_MARK_HEX)})` : shownText(raw);
  }
}
