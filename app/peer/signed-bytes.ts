/**
 * @module peer/signed-bytes
 * The fixed-layout head that every signed peer-level record starts with
 * (docs/protocol.md §13 app messages, §13.2 receipts): domain label ‖ group ID
 * (16 bytes) ‖ signer's member key (32 bytes), then record-specific fields
 * written big-endian. Shared by peer/payload and peer/receipts so the two
 * encodings cannot drift apart.
 *
 * Invariants: numbers are written as unsigned 64-bit big-endian (two 32-bit
 * halves; callers bound them to 2^53 by schema); the domain label ends in NUL,
 * so no record of one kind is a prefix of another kind's.
 */

/** Writes `n` (0 ≤ n < 2^53) as 8 bytes, big-endian, at `at`. */
export function u64(w: DataView, at: number, n: number): void {
  w.setUint32(at, Math.floor(n / 2 ** 32));
  w.setUint32(at + 4, n >>> 0);
}

/** A buffer of `domain ‖ group ‖ signer` followed by `rest` bytes to fill; returns it, a view, and where `rest` starts. */
export function signedHead(domain: Uint8Array, group: string, signer: string, rest: number): { bytes: Uint8Array; view: DataView; at: number } {
  const bytes = new Uint8Array(domain.length + 16 + 32 + rest);
  bytes.set(domain, 0);
  bytes.set(Buffer.from(group, 'hex').subarray(0, 16), domain.length);
  bytes.set(Buffer.from(signer, 'hex'), domain.length + 16);
  return { bytes, view: new DataView(bytes.buffer), at: domain.length + 48 };
}
