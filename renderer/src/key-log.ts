/**
 * The key panel's names and live log, as pure functions of what the peer sent
 * (`keys.table` and `group.members`), so they are tested without a browser.
 *
 * Names: the key table names members by member key; the peer sends the peer ID of
 * every key it names (`peerIds`) and each member's key (`Member.key`), so a key
 * becomes a name ("you", the member's name, or a short peer ID) and a colour (the
 * hue of its peer ID, the same as that member's avatar) without any conversion here.
 *
 * Log: the engine's own entries (creations, joins, exclusions, merges, failovers,
 * refreshes, panel rounds), with key prefixes replaced by names, merged with the
 * inputs the engine refused ("watch it refuse", issue 14 §7). The peer counts
 * refusals per (reason, sender), so a flood from one sender is one line with a
 * count (×N) that moves to the top when it grows, never a flood of lines; at most
 * MAX_REJECTION_LINES of them are shown, those that were no mere late, repeated or
 * early input first. Those (`expected`, marked by the peer: every join makes some)
 * read "ignored", the others "refused".
 */
import type { ExpectedRefusal, KeysTable, Member } from '../../app/api/contract.js';
import { hueAmong, memberHues, shortId } from './identity.js';

export const MAX_REJECTION_LINES = 12;

export interface KeyNames {
  /** The peer ID of a member key (the key itself if the peer did not name it). */
  peerIdOf(key: string): string;
  nameOf(key: string | null): string;
  /** A log text with member key prefixes replaced by names. */
  humanize(text: string): string;
  /** The member's colour, distinct within the group (identity.ts `memberHues`). */
  hueOfKey(key: string): number;
}

export function keyNames(table: Pick<KeysTable, 'self' | 'peerIds'>, members: readonly Member[]): KeyNames {
  const peerIdOf = (key: string) => table.peerIds[key] ?? members.find((m) => m.key === key)?.peerId ?? key;
  const nameOf = (key: string | null) => {
    if (key === null) return 'nobody';
    if (key === table.self) return 'you';
    return members.find((m) => m.key === key)?.name ?? shortId(peerIdOf(key), 6, 4);
  };
  const humanize = (text: string) => {
    const named = text.replace(/\b[0-9a-f]{8,64}\b/g, (hex) => {
      if (table.self.startsWith(hex)) return 'you';
      return members.find((m) => m.key.startsWith(hex))?.name ?? hex;
    });
    return named.replace(/(\S+) \(\1\)/g, '$1').replace(/\byou's\b/g, 'your');
  };
  const hues = memberHues(members.map((m) => m.peerId));
  const hueOfKey = (key: string) => hueAmong(hues, peerIdOf(key));
  return { peerIdOf, nameOf, humanize, hueOfKey };
}

const REASON_TEXT: Record<string, string> = {
  decode: 'malformed message',
  'wire-version': 'unknown wire version',
  'wrong-group': 'message for another group',
  'bad-signature': 'bad signature',
  replay: 'replayed message',
  'not-member': 'sender is not a member',
  blocked: 'sender was excluded',
  'not-authorized': 'sender may not do this',
  'unknown-key': 'unknown key',
  'decrypt-failed': 'could not decrypt',
  'id-collision': 'participant ID already in use',
  'admission-refused': 'admission refused',
  stale: 'stale message',
  invalid: 'invalid message',
};

/** Why a refused input was only late, repeated or early, in words (docs/ui.md "Live log"). */
const EXPECTED_TEXT: Record<ExpectedRefusal, string> = {
  'out-of-date': 'out of date here (an earlier key revision, or a step already past)',
  repeat: 'a repeat of what was already taken',
  'before-admission': 'sent before their admission reached you',
};

/** A rejection reason in words (an unknown reason is shown as it is). */
export function reasonText(reason: string): string {
  return REASON_TEXT[reason] ?? reason;
}

export type LogLine =
  | { kind: string; at: number; text: string }
  | {
      kind: 'rejected';
      at: number;
      /** The whole line as plain text: `refused from <name>: <reason in words>`, or `ignored from …` when expected. */
      text: string;
      reason: string;
      /** The reason in words, or for an expected refusal why it is one. */
      reasonText: string;
      /** Set when the input was only late, repeated or early (the peer's `expected`). */
      expected?: ExpectedRefusal;
      /** The sender: member key, peer ID, name. */
      from: string;
      fromPeerId: string;
      fromName: string;
      /** Refusals for this reason from this sender since the peer started. */
      count: number;
      /** The latest one's detail. */
      detail: string;
    };

/** Every line of the live log, newest first: the engine's entries and the refusals (at their latest). */
export function keyLogLines(table: Pick<KeysTable, 'log' | 'rejections'>, names: KeyNames): LogLine[] {
  const entries: LogLine[] = table.log.map((e) => ({ kind: e.kind, at: e.at, text: names.humanize(e.text) }));
  const refusals: LogLine[] = [...table.rejections]
    .sort((a, b) => Number(a.expected !== undefined) - Number(b.expected !== undefined) || b.lastAt - a.lastAt)
    .slice(0, MAX_REJECTION_LINES)
    .map((r) => {
      const fromName = names.nameOf(r.from);
      const why = r.expected ? EXPECTED_TEXT[r.expected] : reasonText(r.reason);
      return {
        kind: 'rejected',
        at: r.lastAt,
        text: `${r.expected ? 'ignored' : 'refused'} from ${fromName}: ${why}`,
        reason: r.reason,
        reasonText: why,
        ...(r.expected ? { expected: r.expected } : {}),
        from: r.from,
        fromPeerId: names.peerIdOf(r.from),
        fromName,
        count: r.count,
        detail: names.humanize(r.detail),
      };
    });
  // At equal times the later-listed line comes first, as the engine's log reversed.
  return [...entries, ...refusals].map((line, i) => ({ line, i })).sort((a, b) => b.line.at - a.line.at || b.i - a.i).map(({ line }) => line);
}
