/**
 * @module net/yamux-window
 * When a yamux stream tells its far side that receive window is free again.
 *
 * @chainsafe/libp2p-yamux 7.x sends a WINDOW_UPDATE frame each time the reader
 * of a stream has taken any data from it, so every data frame received is
 * answered by a 12-byte frame: one more Noise seal, one more socket write and
 * one more wake-up of the far side for nothing but flow control. In an idle
 * group of ten real peers they were 26 of the 62 frames a second each peer sent
 * (bench/network.ts's idle window, a frame counter in yamux, 5 Dec), and
 * socket writes were the largest share of an idle peer's CPU. hashicorp/yamux,
 * the protocol's reference implementation, sends the update only once at least
 * half of the window has been consumed; this module makes js-yamux do the same.
 *
 * Invariants:
 * - A stream whose SYN or ACK is still to be sent sends its window update as
 *   before: the library's own method runs (it carries those flags).
 * - Otherwise an update goes out once the free part of the receive window is
 *   less than half of it; the library's method then sends it (and grows the
 *   window as it does). The far side can therefore always send at least half
 *   a window without waiting, and a stream never stalls: whatever it sent is
 *   read, and the read that crosses the half sends the update.
 * - Only for a stream whose receive window starts at the protocol's 256 KiB
 *   (the far side's starting send window, fixed by the spec): with a larger
 *   `initialStreamWindowSize` the far side runs out of window while more than
 *   half of ours looks free, and waiting would stall the stream for good
 *   (review 8); such a stream keeps the library's rule.
 * - Installed once per process, before any connection (net/node), and only on
 *   the class the package exports (`@chainsafe/libp2p-yamux/stream`); a
 *   version whose stream lacks the fields it reads keeps the library's method
 *   (checked at install: see `installHalfWindowUpdates`).
 */
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream';

/** The parts of a YamuxStream this module reads (private in the package's types). */
interface WindowState {
  state: StreamState;
  recvWindow: number;
  recvWindowCapacity: number;
  config?: { initialStreamWindowSize?: number };
}

/** The window each side of a yamux stream starts with (the protocol's, not a setting). */
const SPEC_INITIAL_WINDOW = 256 * 1024;

type SendWindowUpdate = (this: WindowState) => void;

let installed: 'half' | 'library' | null = null;

/** Whether `s` still has its SYN (Init) or ACK (SYNReceived) to send: the library's method sends it. */
function flagsPending(s: WindowState): boolean {
  return s.state === StreamState.Init || s.state === StreamState.SYNReceived;
}

/** True when the update can wait: no flag to send and at least half of the receive window still free. */
export function updateCanWait(s: WindowState): boolean {
  return !flagsPending(s) && s.recvWindowCapacity * 2 >= s.recvWindow;
}

/**
 * Makes every yamux stream of this process send window updates at half a window
 * (idempotent). Returns which rule is in force: 'library' if this yamux version's
 * stream does not have the method this wraps.
 */
export function installHalfWindowUpdates(): 'half' | 'library' {
  if (installed) return installed;
  const proto = YamuxStream.prototype as unknown as { sendWindowUpdate?: SendWindowUpdate };
  const library = proto.sendWindowUpdate;
  if (typeof library !== 'function') {
    installed = 'library';
    return installed;
  }
  proto.sendWindowUpdate = function sendWindowUpdateAtHalf(this: WindowState): void {
    // A version whose stream keeps its window elsewhere: the library decides.
    if (typeof this.recvWindow !== 'number' || typeof this.recvWindowCapacity !== 'number') return library.call(this);
    // A receive window that starts above the far side's send window: the library decides.
    if (this.config?.initialStreamWindowSize !== SPEC_INITIAL_WINDOW) return library.call(this);
    if (updateCanWait(this)) return;
    library.call(this);
  };
  installed = 'half';
  return installed;
}
