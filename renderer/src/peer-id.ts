/**
 * Member keys (hex Ed25519 public keys, the engine's names for members, as
 * `keys.table` reports them) written as libp2p peer IDs (what `group.members`
 * and the rest of the contract use), so the key panel can name owners.
 * A libp2p Ed25519 peer ID is base58btc(identity multihash of the protobuf
 * PublicKey { Type: Ed25519, Data: key }) = base58(00 24 08 01 12 20 ‖ key).
 */

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const PREFIX = [0x00, 0x24, 0x08, 0x01, 0x12, 0x20];

function base58(bytes: readonly number[]): string {
  const digits: number[] = [0];
  for (const byte of bytes) {
    let carry = byte;
    for (let i = 0; i < digits.length; i++) {
      carry += digits[i]! << 8;
      digits[i] = carry % 58;
      carry = (carry / 58) | 0;
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = (carry / 58) | 0;
    }
  }
  let out = '';
  for (let i = 0; i < bytes.length && bytes[i] === 0; i++) out += '1';
  for (let i = digits.length - 1; i >= 0; i--) out += ALPHABET[digits[i]!];
  return out;
}

/** The peer ID for a member key; anything that is not 64 hex characters is returned as it is (already a peer ID). */
export function peerIdOfMemberKey(key: string): string {
  if (!/^[0-9a-f]{64}$/.test(key)) return key;
  const bytes = [...PREFIX];
  for (let i = 0; i < 64; i += 2) bytes.push(parseInt(key.slice(i, i + 2), 16));
  return base58(bytes);
}

/** The member key (hex) inside an Ed25519 libp2p peer ID, or null for anything else. */
export function memberKeyOfPeerId(peerId: string): string | null {
  const bytes: number[] = [0];
  for (const ch of peerId) {
    const digit = ALPHABET.indexOf(ch);
    if (digit < 0) return null;
    let carry = digit;
    for (let i = 0; i < bytes.length; i++) {
      carry += bytes[i]! * 58;
      bytes[i] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  for (let i = 0; i < peerId.length && peerId[i] === '1'; i++) bytes.push(0);
  bytes.reverse();
  // Drop the leading zero the accumulator started with, unless it was a real leading '1'.
  while (bytes.length > PREFIX.length + 32 && bytes[0] === 0) bytes.shift();
  if (bytes.length !== PREFIX.length + 32 || PREFIX.some((b, i) => bytes[i] !== b)) return null;
  return bytes
    .slice(PREFIX.length)
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');
}
