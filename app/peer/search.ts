/**
 * @module peer/search
 * Search over a group's history as this device holds it, decrypted (issue 18 §3;
 * docs/api.md `chat.search`): a scan of the messages shown now (after edits and
 * deletes), in memory, newest first. No index is kept, so nothing about the
 * history reaches the disk beyond the sealed history log itself; a scan of
 * 10,000 messages takes a few milliseconds (measured: test/unit/files.test.ts
 * prints it; docs/api.md gives the figure).
 *
 * Matching: every word of the query (split on white space) must occur in the
 * message's text or file name, compared case- and accent-insensitively
 * (NFKD, combining marks removed, lower case). Deleted messages never match.
 */
import type { ChatMessage } from '../api/contract.js';

/** Text folded for comparison: compatibility-decomposed, without combining marks, lower case. */
export function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

/** The messages (oldest first, as history gives them) that match `query`, newest first, at most `limit`. */
export function searchMessages(messages: readonly ChatMessage[], query: string, limit: number): ChatMessage[] {
  const words = fold(query).split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0) return [];
  const out: ChatMessage[] = [];
  for (let i = messages.length - 1; i >= 0 && out.length < limit; i--) {
    const m = messages[i]!;
    if (m.deleted) continue;
    const hay = fold(m.file ? `${m.text} ${m.file.name}` : m.text);
    if (words.every((w) => hay.includes(w))) out.push(m);
  }
  return out;
}
