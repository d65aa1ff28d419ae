/**
 * What the Invite pane says about a link (issue 18 §6): how many people can
 * join with it and until when, in words; the choices offered for uses and
 * lifetime; error sentences. Pure, so it is tested without a browser.
 */

export const USE_CHOICES = [1, 5, 10, 50] as const;
export const LIFETIME_CHOICES = [
  { label: '1 hour', sec: 3600 },
  { label: '1 day', sec: 86_400 },
  { label: '7 days', sec: 7 * 86_400 },
  { label: '30 days', sec: 30 * 86_400 },
] as const;
/** What `group.create` makes (docs/api.md): the link shown right after creating a group. */
export const CREATE_DEFAULTS = { uses: 10, ttlSec: 7 * 86_400 };

/** "in 7 days", "in 3 hours", "in 12 minutes", "now" (rounded down, never "in 0 days"). */
export function timeLeft(expiresAt: number, now: number): string {
  const ms = expiresAt - now;
  if (ms <= 0) return 'expired';
  const minutes = Math.floor(ms / 60_000);
  const plural = (n: number, unit: string) => `in ${n} ${unit}${n === 1 ? '' : 's'}`;
  if (minutes < 1) return 'in less than a minute';
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return plural(hours, 'hour');
  return plural(Math.floor(hours / 24), 'day');
}

/** One sentence saying what the link is: who can use it, how often, until when. */
export function describeInvite(uses: number, expiresAt: number, now: number, used = 0): string {
  const left = Math.max(0, uses - used);
  const people = uses === 1 ? 'one person' : `up to ${uses} people`;
  const expiry = expiresAt <= now ? 'it has expired' : `it expires ${timeLeft(expiresAt, now)}`;
  const usedText = used > 0 ? ` (${used} used, ${left} left)` : '';
  return `This link lets ${people} join${usedText}; ${expiry}.`;
}

/**
 * The invite ID, use limit and expiry a link states, read without verifying it
 * (display only: the link shown right after `group.create`; the peer verifies
 * every invite it is given). Null if the link is not a readable v2 invite.
 */
export function peekInvite(link: string): { id: string; uses: number; expiresAt: number } | null {
  try {
    const encoded = link.trim().replace(/^conclave:\/\/join\//, '');
    const binary = atob(encoded.replace(/-/g, '+').replace(/_/g, '/'));
    const length = (binary.charCodeAt(0) << 8) | binary.charCodeAt(1);
    const bytes = Uint8Array.from(binary.slice(2, 2 + length), (c) => c.charCodeAt(0));
    const body = JSON.parse(new TextDecoder().decode(bytes)) as { id?: unknown; uses?: unknown; expiresAt?: unknown };
    if (typeof body.id !== 'string' || typeof body.uses !== 'number' || typeof body.expiresAt !== 'number') return null;
    return { id: body.id, uses: body.uses, expiresAt: body.expiresAt };
  } catch {
    return null;
  }
}

/** A peer's error message as a sentence for the UI: capitalised, with a final stop. */
export function sentence(message: string): string {
  const text = message.trim();
  if (!text) return 'Something went wrong.';
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
