/**
 * `conclave://join/<invite>` links: how the OS hands an invite to the app (the
 * protocol handler on macOS `open-url`, or the argv of a second instance on
 * Linux and Windows). Only the join action is understood; anything else is
 * ignored rather than guessed at. Pure and unit-tested.
 */

export const PROTOCOL = 'conclave';
const MAX_LINK = 8192;

/**
 * The invite to pass to `group.join`, or null if `raw` is not a join link.
 * The whole link is the invite: the peer's `group.join` accepts it as shared.
 */
export function parseJoinLink(raw: string): string | null {
  if (typeof raw !== 'string' || raw.length > MAX_LINK) return null;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return null;
  }
  if (url.protocol !== `${PROTOCOL}:`) return null;
  // `conclave://join/X` parses with host "join"; tolerate `conclave:join/X` and `conclave:///join/X`.
  const path = (url.host ? `${url.host}${url.pathname}` : url.pathname.replace(/^\/+/, '')).replace(/^\/+/, '');
  if (!path.startsWith('join/') || path.length <= 'join/'.length) return null;
  return raw.trim();
}

/** The first join link among a process's arguments (second-instance argv, first-launch argv). */
export function findJoinLink(argv: readonly string[]): string | null {
  for (const arg of argv) {
    if (!arg.toLowerCase().startsWith(`${PROTOCOL}:`)) continue;
    const invite = parseJoinLink(arg);
    if (invite) return invite;
  }
  return null;
}
