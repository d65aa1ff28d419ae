/**
 * Text limits the peer enforces (app/api/contract.ts: chat.send text, group.create
 * name, profile.setName name), mirrored here because the renderer imports only
 * types from app/api; test/unit/renderer-limits.test.ts keeps the two equal.
 *
 * Invariant (issue 18 §6): the UI never cuts text silently. Inputs carry no
 * `maxLength` (which truncates a paste without a word); past a limit the UI says
 * by how much and refuses to send, keeping every character in the field.
 * Lengths are UTF-16 code units, as the peer counts them.
 */
export const LIMITS = {
  message: 16_000,
  groupName: 100,
  displayName: 64,
} as const;

export interface LimitState {
  length: number;
  max: number;
  over: boolean;
  /** Shown near the limit and past it, otherwise null. */
  text: string | null;
}

/** Where `text` stands against `max`; the note appears from 90 % of the limit on. */
export function limitState(text: string, max: number, what = 'characters'): LimitState {
  const length = text.length;
  const over = length > max;
  const fmt = (n: number) => n.toLocaleString('en-US');
  let note: string | null = null;
  if (over) note = `${fmt(length)} / ${fmt(max)} ${what}: ${fmt(length - max)} too many. Shorten it to continue; nothing was cut.`;
  else if (length >= max * 0.9) note = `${fmt(length)} / ${fmt(max)} ${what}`;
  return { length, max, over, text: note };
}
