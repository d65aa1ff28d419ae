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
 * - At most 16 addresses per peer are kept.
 */
import type { MemberKey } from '../core/types.js';

export const MAX_ADDRESSES_PER_PEER = 16;

export class AddressBook {
  private readonly entries = new Map<MemberKey, string[]>();
  /** Strangers with an entry, least recently heard first. */
  private readonly strangers = new Set<MemberKey>();

  constructor(
    /** Whether `key` is a current member of one of this peer's groups. */
    private readonly isMember: (key: MemberKey) => boolean,
    private readonly maxStrangers = 256,
  ) {}

  get(key: MemberKey): string[] | undefined {
    return this.entries.get(key);
  }

  set(key: MemberKey, addrs: readonly string[]): void {
    this.entries.set(key, addrs.slice(0, MAX_ADDRESSES_PER_PEER));
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

  get size(): number {
    return this.entries.size;
  }
}
