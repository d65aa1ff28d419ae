/**
 * @module peer/early-control
 * Control input a joining group keeps to re-offer once it is a member (gossip can overtake
 * this member's own Admit: group.ts `replayEarlyControl`). Only what the engine did not refuse
 * as garbage is handed here.
 *
 * Invariants (review 32): at most `MAX_ITEMS` items, `MAX_BYTES` bytes in all and
 * `MAX_PER_SENDER` from one sender. Beyond them a stranger's input is dropped, and a known
 * sender's (a contact's, a roster member's: `knows`) replaces the oldest stranger's. Before,
 * 512 inputs of anyone's were kept before the engine saw them: strangers' 1 MiB junk held
 * 512 MiB for as long as the join lasted, and then 32 throwaway identities crowded the
 * inviter's message out.
 */
import type { MemberKey } from '../core/types.js';

export interface EarlyItem {
  from: MemberKey;
  bytes: Uint8Array;
}

export const MAX_ITEMS = 512;
export const MAX_BYTES = 8 * 1024 * 1024;
export const MAX_PER_SENDER = 16;

export class EarlyControl {
  private kept: EarlyItem[] = [];
  private bytes = 0;

  constructor(private readonly knows: (key: MemberKey) => boolean) {}

  /** What is kept, in arrival order. */
  get items(): readonly EarlyItem[] {
    return this.kept;
  }

  keep(item: EarlyItem): void {
    if (item.bytes.length > MAX_BYTES) return;
    let fromSender = 0;
    for (const e of this.kept) if (e.from === item.from && ++fromSender >= MAX_PER_SENDER) return;
    const full = () => this.kept.length >= MAX_ITEMS || this.bytes + item.bytes.length > MAX_BYTES;
    if (full()) {
      if (!this.knows(item.from)) return;
      while (full()) {
        const stranger = this.kept.findIndex((e) => !this.knows(e.from));
        if (stranger < 0) return;
        this.bytes -= this.kept[stranger]!.bytes.length;
        this.kept.splice(stranger, 1);
      }
    }
    this.kept.push(item);
    this.bytes += item.bytes.length;
  }

  /** Everything kept, in arrival order; the buffer is empty after. */
  take(): EarlyItem[] {
    const out = this.kept;
    this.kept = [];
    this.bytes = 0;
    return out;
  }
}
