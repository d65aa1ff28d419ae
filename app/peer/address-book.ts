/**
 * @module peer/address-book
 * The listen addresses this peer has heard for other peers (identify and
 * identify-push on every connection, `/conclave/peers` from fellow members;
 * docs/architecture.md "Keeping the mesh"), for dialling members.
 *
 * Invariants:
 * - Memory is bounded whatever strangers do: any peer can connect and announce
 *   addresses, and a joiner's are needed once it is admitted, so peers that are
 *   members of none of this peer's groups are kept too, but at most
 *   `maxStrangers` of them, the least recently heard forgotten first. Members'
 *   entries are bounded by the rosters.
 * - At most 16 addresses per peer are kept from each source: what the peer
 *   announced itself (`set`: identify, over a connection authenticated as that
 *   peer) and what fellow members say of it (`hear`). Hearsay never replaces
 *   the peer's own announcement: `get` lists the peer's own addresses first,
 *   then the heard ones it lacks (a fresher relayed address); a fresh
 *   announcement of its own clears the hearsay. So a member serving lies over
 *   `/conclave/peers` adds addresses to a dial but cannot take the genuine ones
 *   out of it (review 7: the mesh dials only these addresses since the
 *   direct-then-relayed dial).
 */
import type { MemberKey } from '../core/types.js';

export const MAX_ADDRESSES_PER_PEER = 16;

export class AddressBook {
  /** What each peer announced itself. */
  private readonly entries = new Map<MemberKey, string[]>();
  /** What fellow members said of a member (only members are asked about). */
  private readonly heard = new Map<MemberKey, string[]>();
  /** Strangers with an entry, least recently heard first. */
  private readonly strangers = new Set<MemberKey>();

  constructor(
    /** Whether `key` is a current member of one of this peer's groups. */
    private readonly isMember: (key: MemberKey) => boolean,
    private readonly maxStrangers = 256,
  ) {}

  /** The peer's own addresses, then the heard ones it did not announce; undefined if none. */
  get(key: MemberKey): string[] | undefined {
    const own = this.entries.get(key) ?? [];
    const extra = (this.heard.get(key) ?? []).filter((a) => !own.includes(a));
    return own.length + extra.length > 0 ? [...own, ...extra] : undefined;
  }

  /** What `key` announced itself (identify): it replaces what was heard of it. */
  set(key: MemberKey, addrs: readonly string[]): void {
    this.entries.set(key, addrs.slice(0, MAX_ADDRESSES_PER_PEER));
    this.heard.delete(key);
    this.strangers.delete(key);
    if (this.isMember(key)) return;
    this.strangers.add(key);
    for (const oldest of this.strangers) {
      if (this.strangers.size <= this.maxStrangers) break;
      this.strangers.delete(oldest);
      // Admitted since it was heard: a member's entry stays.
      if (!this.isMember(oldest)) this.entries.delete(oldest);
    }
  }

  /** What a fellow member says of member `key` (peer exchange): added after its own, never replacing them. */
  hear(key: MemberKey, addrs: readonly string[]): void {
    this.heard.set(key, addrs.slice(0, MAX_ADDRESSES_PER_PEER));
  }

  get size(): number {
    return new Set([...this.entries.keys(), ...this.heard.keys()]).size;
  }
}
