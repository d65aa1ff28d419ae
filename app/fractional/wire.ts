/**
 * @module fractional/wire
 * The panel's messages, their binary codec and their envelope, defined once.
 *
 * Every message follows 004 §I's format {{T_i, M, j, Msg}K_i⁻¹}K_R: the inner
 * record (timestamp, mode I/G/R, iteration, body, plus epoch, sender and
 * recipient) is signed with the sender's Ed25519 key, then sealed to the
 * recipient: an ephemeral X25519 key agreed with the recipient's X25519 key
 * (mapped from its Ed25519 identity), HKDF-SHA256, XChaCha20-Poly1305.
 *
 * Invariants:
 * - decoders never throw: every failure is a `PanelRejectReason`;
 * - sizes are bounded before anything is parsed (MAX_ENVELOPE_BYTES, MAX_BODY_BYTES);
 * - scalars must be canonical (< ℓ) and points canonical ristretto255 encodings;
 * - a body kind belongs to exactly one mode; a header whose mode disagrees is refused.
 *
 * Seed: 004 §I (message format), §II.B steps 420/440/470/485, §III step 525,
 * §IV steps 710/735, §VI (the commitment fields).
 */
import type { CryptoProvider, Rng } from '../core/crypto-provider.js';
import type { MemberKey } from '../core/types.js';
import type { Point, Scalar } from './arithmetic.js';
import { decodePoint, decodeScalar, encodePoint, encodeScalar, POINT_BYTES, SCALAR_BYTES } from './arithmetic.js';
import { Reader } from '../core/bytes.js';
import { RemoteProtocolError } from '../core/errors.js';
import { ascii, concatBytes, fromHex, toHex } from './bytes.js';
import type { PanelRejectReason } from './errors.js';

export const WIRE_VERSION = 1;
export const MAX_PANEL_SIZE = 32;
export const EPOCH_BYTES = 16;
const DIGEST_BYTES = 32;
const KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + 1 + 1 + EPOCH_BYTES + 4 + 8 + KEY_BYTES + KEY_BYTES + 2;
/** A signed `commit` record: the only record an `evidence` body carries. */
export const COMMIT_RECORD_BYTES = HEADER_BYTES + POINT_BYTES + DIGEST_BYTES + SIGNATURE_BYTES;
/** The largest body: a handover carrying a full panel's pad commitments. */
const MAX_BODY_BYTES = 3 * SCALAR_BYTES + 1 + MAX_PANEL_SIZE * POINT_BYTES;
export const MAX_INNER_BYTES = HEADER_BYTES + MAX_BODY_BYTES + SIGNATURE_BYTES;
export const MAX_ENVELOPE_BYTES = 1 + 32 + NONCE_BYTES + MAX_INNER_BYTES + TAG_BYTES;

export type Mode = 'I' | 'G' | 'R';

/** One variant per message of the panel protocol (docs/fractional.md lists their fields). */
export type PanelBody =
  | { kind: 'ring'; delta: Scalar }
  | { kind: 'ring-commit'; v: Point; d: Point; gamma: Point }
  | { kind: 'theta'; theta: Scalar }
  | { kind: 'commit'; f: Point; stateDigest: Uint8Array }
  | { kind: 'reveal'; hfk: Scalar; commitDigest: Uint8Array }
  | { kind: 'recovery-ring'; delta: Scalar; failed: MemberKey; replacement: MemberKey }
  | { kind: 'xi'; xi: Scalar; failed: MemberKey; replacement: MemberKey }
  | { kind: 'handover'; theta: Scalar; xi: Scalar; failed: MemberKey; pads: Point[] }
  | { kind: 'share'; masked: Scalar; u: Point; prev: Point; d: Point; gamma: Point; stateDigest: Uint8Array }
  | { kind: 'done'; stateDigest: Uint8Array }
  /** Another member's signed `commit` record of this round, forwarded as evidence (docs/fractional.md §5 "Equivocation"). */
  | { kind: 'evidence'; record: Uint8Array };

type BodyKind = PanelBody['kind'];

export interface PanelMessage {
  mode: Mode;
  epoch: Uint8Array;
  iteration: number;
  /** T_i: the sender's clock in milliseconds. */
  timestamp: number;
  sender: MemberKey;
  recipient: MemberKey;
  body: PanelBody;
  /** The signed record as received (set by `decodeSigned`; absent on a message built here). */
  signed?: Uint8Array;
}

const KINDS: readonly { kind: BodyKind; mode: Mode }[] = [
  { kind: 'ring', mode: 'I' },
  { kind: 'ring-commit', mode: 'I' },
  { kind: 'theta', mode: 'I' },
  { kind: 'commit', mode: 'G' },
  { kind: 'reveal', mode: 'G' },
  { kind: 'recovery-ring', mode: 'R' },
  { kind: 'xi', mode: 'R' },
  { kind: 'handover', mode: 'R' },
  { kind: 'share', mode: 'R' },
  { kind: 'done', mode: 'R' },
  { kind: 'evidence', mode: 'G' },
];

export const modeOf = (kind: BodyKind): Mode => KINDS.find((k) => k.kind === kind)!.mode;
const MODE_BYTE: Record<Mode, number> = { I: 0x49, G: 0x47, R: 0x52 };
const SIGN_DOMAIN = ascii('conclave/fractional/message/v1');
const SEAL_INFO = ascii('conclave/fractional/seal/v1');

// ---- body codec ----

const keyBytes = (key: MemberKey): Uint8Array => fromHex(key)!;

function encodeBody(body: PanelBody): Uint8Array {
  const s = encodeScalar;
  const p = encodePoint;
  switch (body.kind) {
    case 'ring':
      return s(body.delta);
    case 'ring-commit':
      return concatBytes(p(body.v), p(body.d), p(body.gamma));
    case 'theta':
      return s(body.theta);
    case 'commit':
      return concatBytes(p(body.f), body.stateDigest);
    case 'reveal':
      return concatBytes(s(body.hfk), body.commitDigest);
    case 'recovery-ring':
      return concatBytes(s(body.delta), keyBytes(body.failed), keyBytes(body.replacement));
    case 'xi':
      return concatBytes(s(body.xi), keyBytes(body.failed), keyBytes(body.replacement));
    case 'handover':
      return concatBytes(s(body.theta), s(body.xi), keyBytes(body.failed), Uint8Array.of(body.pads.length), ...body.pads.map(p));
    case 'share':
      return concatBytes(s(body.masked), p(body.u), p(body.prev), p(body.d), p(body.gamma), body.stateDigest);
    case 'done':
      return body.stateDigest;
    case 'evidence': {
      const length = new Uint8Array(2);
      new DataView(length.buffer).setUint16(0, body.record.length);
      return concatBytes(length, body.record);
    }
  }
}

/**
 * Reads with the engine's bounded Reader (app/core/bytes.ts: never past its end;
 * a violation is a RemoteProtocolError('decode')), plus the canonical-value checks
 * the panel's fields need; `decodeSigned` turns any RemoteProtocolError into a
 * `decode` refusal.
 */
function scalar(r: Reader, what: string): Scalar {
  const v = decodeScalar(r.raw(SCALAR_BYTES));
  if (v === null) throw new RemoteProtocolError('decode', `non-canonical scalar ${what}`);
  return v;
}

function point(r: Reader, what: string): Point {
  const v = decodePoint(r.raw(POINT_BYTES));
  if (v === null) throw new RemoteProtocolError('decode', `invalid point ${what}`);
  return v;
}

const memberKey = (r: Reader): MemberKey => toHex(r.raw(KEY_BYTES));
const digest = (r: Reader): Uint8Array => r.raw(DIGEST_BYTES);

function decodeBody(kind: BodyKind, r: Reader): PanelBody {
  switch (kind) {
    case 'ring':
      return { kind, delta: scalar(r, 'δ') };
    case 'ring-commit':
      return { kind, v: point(r, 'V'), d: point(r, 'D'), gamma: point(r, 'Γ') };
    case 'theta':
      return { kind, theta: scalar(r, 'θ') };
    case 'commit':
      return { kind, f: point(r, 'F'), stateDigest: digest(r) };
    case 'reveal':
      return { kind, hfk: scalar(r, 'HFK'), commitDigest: digest(r) };
    case 'recovery-ring':
      return { kind, delta: scalar(r, 'δ'), failed: memberKey(r), replacement: memberKey(r) };
    case 'xi':
      return { kind, xi: scalar(r, 'ξ'), failed: memberKey(r), replacement: memberKey(r) };
    case 'handover': {
      const theta = scalar(r, 'θ');
      const xi = scalar(r, 'ξ');
      const failed = memberKey(r);
      const count = r.u8();
      if (count < 4 || count > MAX_PANEL_SIZE) throw new RemoteProtocolError('decode', `pad count ${count} out of range`);
      const pads: Point[] = [];
      for (let i = 0; i < count; i++) pads.push(point(r, `A[${i}]`));
      return { kind, theta, xi, failed, pads };
    }
    case 'share':
      return {
        kind,
        masked: scalar(r, 'masked pad'),
        u: point(r, 'U'),
        prev: point(r, 'previous D'),
        d: point(r, 'D'),
        gamma: point(r, 'Γ'),
        stateDigest: digest(r),
      };
    case 'done':
      return { kind, stateDigest: digest(r) };
    case 'evidence': {
      const length = r.u16();
      if (length !== COMMIT_RECORD_BYTES) throw new RemoteProtocolError('decode', `evidence of ${length} bytes is not a commit record`);
      return { kind, record: r.raw(length).slice() };
    }
  }
}

// ---- the signed inner record ----

function encodeHeader(m: PanelMessage, bodyLength: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  const view = new DataView(h.buffer);
  h[0] = WIRE_VERSION;
  h[1] = MODE_BYTE[m.mode];
  h[2] = KINDS.findIndex((k) => k.kind === m.body.kind) + 1;
  h.set(m.epoch, 3);
  view.setUint32(3 + EPOCH_BYTES, m.iteration);
  view.setUint32(7 + EPOCH_BYTES, Math.floor(m.timestamp / 2 ** 32));
  view.setUint32(11 + EPOCH_BYTES, m.timestamp % 2 ** 32);
  h.set(keyBytes(m.sender), 15 + EPOCH_BYTES);
  h.set(keyBytes(m.recipient), 15 + EPOCH_BYTES + KEY_BYTES);
  view.setUint16(HEADER_BYTES - 2, bodyLength);
  return h;
}

/** The signed record {T, M, j, Msg}K⁻¹ (before sealing). */
export function encodeSigned(crypto: CryptoProvider, seed: Uint8Array, m: PanelMessage): Uint8Array {
  const body = encodeBody(m.body);
  const unsigned = concatBytes(encodeHeader(m, body.length), body);
  return concatBytes(unsigned, crypto.ed25519Sign(seed, concatBytes(SIGN_DOMAIN, unsigned)));
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: PanelRejectReason; detail: string };

/** Parses and checks the signature of a signed record (the signer is the record's own sender field). */
export function decodeSigned(crypto: CryptoProvider, bytes: Uint8Array): Decoded<PanelMessage> {
  if (bytes.length > MAX_INNER_BYTES) return { ok: false, reason: 'decode', detail: `record of ${bytes.length} bytes exceeds ${MAX_INNER_BYTES}` };
  try {
    const r = new Reader(bytes);
    const version = r.u8();
    if (version !== WIRE_VERSION) return { ok: false, reason: 'wire-version', detail: `version ${version}` };
    const modeByte = r.u8();
    const mode = (Object.keys(MODE_BYTE) as Mode[]).find((k) => MODE_BYTE[k] === modeByte);
    if (!mode) return { ok: false, reason: 'decode', detail: `unknown mode byte ${modeByte}` };
    const kindEntry = KINDS[r.u8() - 1];
    if (!kindEntry) return { ok: false, reason: 'decode', detail: 'unknown kind' };
    if (kindEntry.mode !== mode) return { ok: false, reason: 'wrong-mode', detail: `${kindEntry.kind} is not a mode ${mode} message` };
    const epoch = r.raw(EPOCH_BYTES);
    const iteration = r.u32();
    const timestamp = r.u32() * 2 ** 32 + r.u32();
    const sender = memberKey(r);
    const recipient = memberKey(r);
    const bodyLength = r.u16();
    if (bodyLength > MAX_BODY_BYTES) return { ok: false, reason: 'decode', detail: `body of ${bodyLength} bytes` };
    const bodyReader = new Reader(r.raw(bodyLength));
    const body = decodeBody(kindEntry.kind, bodyReader);
    bodyReader.done();
    const signedPart = bytes.subarray(0, r.offset);
    const signature = r.raw(SIGNATURE_BYTES);
    r.done();
    if (!Number.isSafeInteger(timestamp)) return { ok: false, reason: 'decode', detail: 'timestamp out of range' };
    const senderKey = fromHex(sender)!;
    if (!crypto.ed25519Verify(senderKey, concatBytes(SIGN_DOMAIN, signedPart), signature)) {
      return { ok: false, reason: 'bad-signature', detail: `${kindEntry.kind} not signed by its sender` };
    }
    return { ok: true, value: { mode, epoch, iteration, timestamp, sender, recipient, body, signed: bytes } };
  } catch (e) {
    if (e instanceof RemoteProtocolError) return { ok: false, reason: 'decode', detail: e.message };
    throw e;
  }
}

// ---- the envelope (sealed to the recipient) ----

function sealKey(crypto: CryptoProvider, shared: Uint8Array, ephemeral: Uint8Array, recipientX: Uint8Array): Uint8Array {
  return crypto.hkdf(shared, concatBytes(ephemeral, recipientX), SEAL_INFO, 32);
}

const sealAad = (recipient: MemberKey): Uint8Array => concatBytes(Uint8Array.of(WIRE_VERSION), SEAL_INFO, keyBytes(recipient));

/** The recipient as `seal` needs it: its identity and its X25519 key (mapped once from the Ed25519 key). */
export interface SealTarget {
  key: MemberKey;
  x25519: Uint8Array;
}

/** What opening needs: the holder's identity and its X25519 key pair (derived once from the seed). */
export interface OpeningKeys {
  key: MemberKey;
  secret: Uint8Array;
  public: Uint8Array;
}

export function sealTarget(crypto: CryptoProvider, key: MemberKey): SealTarget | null {
  const x25519 = crypto.x25519PublicFromEd25519(keyBytes(key));
  return x25519 ? { key, x25519 } : null;
}

export function openingKeys(crypto: CryptoProvider, seed: Uint8Array): OpeningKeys {
  const secret = crypto.x25519SecretFromEd25519Seed(seed);
  return { key: toHex(crypto.ed25519PublicKey(seed)), secret, public: crypto.x25519PublicKey(secret) };
}

/** {record}K_R: version ‖ ephemeral X25519 key ‖ nonce ‖ ciphertext. */
export function seal(crypto: CryptoProvider, rng: Rng, to: SealTarget, record: Uint8Array): Uint8Array {
  const ephemeralSecret = rng(32);
  const ephemeral = crypto.x25519PublicKey(ephemeralSecret);
  const shared = crypto.x25519(ephemeralSecret, to.x25519);
  if (!shared) throw new Error('X25519 with the recipient failed');
  const nonce = rng(NONCE_BYTES);
  const ct = crypto.seal(sealKey(crypto, shared, ephemeral, to.x25519), nonce, record, sealAad(to.key));
  return concatBytes(Uint8Array.of(WIRE_VERSION), ephemeral, nonce, ct);
}

/** Opens an envelope addressed to the holder of `keys`. */
export function open(crypto: CryptoProvider, keys: OpeningKeys, envelope: Uint8Array): Decoded<Uint8Array> {
  if (envelope.length > MAX_ENVELOPE_BYTES) return { ok: false, reason: 'decode', detail: `envelope of ${envelope.length} bytes exceeds ${MAX_ENVELOPE_BYTES}` };
  if (envelope.length < 1 + 32 + NONCE_BYTES + TAG_BYTES) return { ok: false, reason: 'decode', detail: 'truncated envelope' };
  if (envelope[0] !== WIRE_VERSION) return { ok: false, reason: 'wire-version', detail: `envelope version ${envelope[0]}` };
  const ephemeral = envelope.subarray(1, 33);
  const nonce = envelope.subarray(33, 33 + NONCE_BYTES);
  const shared = crypto.x25519(keys.secret, ephemeral);
  if (!shared) return { ok: false, reason: 'decrypt-failed', detail: 'bad ephemeral key' };
  const record = crypto.open(sealKey(crypto, shared, ephemeral, keys.public), nonce, envelope.subarray(33 + NONCE_BYTES), sealAad(keys.key));
  if (!record) return { ok: false, reason: 'decrypt-failed', detail: 'envelope does not open' };
  return { ok: true, value: record };
}
