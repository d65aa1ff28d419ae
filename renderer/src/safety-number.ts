/**
 * Safety numbers (issue 18 §7): two members compare one number, read aloud or
 * side by side, to know that the member key each screen shows for the other is
 * the real one (nobody in between handed out a key of its own).
 *
 * The number is derived from both member keys (hex Ed25519 public keys, the
 * `key` of `group.members`) and nothing else, so both members compute the same
 * one: SHA-512 over a domain label and the two keys in sorted order, then 12
 * groups of 5 digits, each the big-endian value of 5 digest bytes modulo 100,000
 * (60 digest bytes used). It does not depend on the group: a pair of identities
 * has one number. Verified numbers are remembered on this device only
 * (localStorage), keyed by the other member's key and the number, so a changed
 * key shows as unverified again.
 */

const LABEL = 'conclave safety number v1';

/** The 12 groups of 5 digits both members see. Uses Web Crypto (browser, Electron, Node 20). */
export async function safetyNumber(keyA: string, keyB: string): Promise<string[]> {
  const [lo, hi] = [keyA.toLowerCase(), keyB.toLowerCase()].sort();
  const input = new TextEncoder().encode(`${LABEL}\n${lo}\n${hi}`);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-512', input));
  const groups: string[] = [];
  for (let g = 0; g < 12; g++) {
    let v = 0;
    for (let i = 0; i < 5; i++) v = v * 256 + digest[g * 5 + i]!;
    groups.push(String(v % 100_000).padStart(5, '0'));
  }
  return groups;
}

const STORE_KEY = 'conclave.verified';

/** localStorage where there is one (this module is also loaded by Node tests). */
function store(): { getItem(k: string): string | null; setItem(k: string, v: string): void } | undefined {
  return (globalThis as { localStorage?: { getItem(k: string): string | null; setItem(k: string, v: string): void } }).localStorage;
}

function readVerified(): Record<string, string> {
  try {
    const raw = store()?.getItem(STORE_KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** Whether this device marked `number` as verified for the member with `key`. */
export function isVerified(key: string, number: readonly string[]): boolean {
  return readVerified()[key] === number.join(' ');
}

export function setVerified(key: string, number: readonly string[] | null): void {
  const all = readVerified();
  if (number) all[key] = number.join(' ');
  else delete all[key];
  try {
    store()?.setItem(STORE_KEY, JSON.stringify(all));
  } catch {
    /* private mode: the mark lasts this session only */
  }
}
