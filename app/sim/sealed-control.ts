/**
 * @module sim/sealed-control
 * Sealed control messages (docs/protocol.md §3, §14) as someone outside the engine
 * handles them with the TEKs it holds: the oracle (which opens with every key any peer
 * ever held, so its secrecy checks read every table as before), the attacker kit (an
 * insider seals forged control messages under a TEK it legitimately holds) and the
 * tests (which look inside the traffic as an insider would).
 *
 * The rules are re-derived from the protocol, not called through the engine:
 * control key = HKDF(TEK at the header's revision, "conclave/v1/control"); AEAD
 * XChaCha20-Poly1305 over inner type ‖ body, the clear header as associated data.
 *
 * Invariants: pure given its inputs; derived keys are cached per (known key, revision) only;
 * two different keys under one version and creators are both kept and both tried.
 */
import type { CryptoProvider } from '../core/crypto-provider.js';
import { equalBytes } from '../core/bytes.js';
import { advanceRevision, controlKey, creatorsTag } from '../core/keys.js';
import {
  MsgType,
  controlAad,
  decodeControlInner,
  decodeMessage,
  encodeControlInner,
  encodeMessage,
  type ControlMessage,
  type SealedControlMessage,
} from '../core/wire.js';
import type { MemberKey } from '../core/types.js';

/** A TEK as someone outside an engine knows it. */
export interface TekKnown {
  slot: number;
  version: number;
  creators: MemberKey[];
  revision: number;
  key: Uint8Array;
}

/** Most revision steps tried from a known key (the engine's MAX_REVISION_JUMP). */
const MAX_STEPS = 10_000;

/** Whether key `to` is key `from` stepped forward by the one-way revision step (at most MAX_STEPS): one line of keys. */
export function steppedTo(crypto: CryptoProvider, from: { revision: number; key: Uint8Array }, to: { revision: number; key: Uint8Array }): boolean {
  return from.revision <= to.revision && to.revision - from.revision <= MAX_STEPS && equalBytes(advanceRevision(crypto, from.key, from.revision, to.revision), to.key);
}

/** Opens sealed control messages with a set of known TEKs (slot 0 entries of `keys`; others are ignored). */
export class ControlOpener {
  private readonly teks: { k: TekKnown; tag: Uint8Array }[] = [];
  private readonly derived = new Map<string, Uint8Array>();

  constructor(
    private readonly crypto: CryptoProvider,
    private readonly group: Uint8Array,
    keys: Iterable<TekKnown> = [],
  ) {
    for (const k of keys) this.add(k);
  }

  add(k: TekKnown): void {
    if (k.slot !== 0) return;
    const tag = creatorsTag(this.crypto, k.creators);
    // Known already: the same key at this or an earlier revision (the one-way step gives this one).
    // Another key of the same version and creators is kept beside it: after a `bootstrap`, the
    // creator held the v1 its `create` made and then the group's (review 14 found the oracle had
    // kept only the first, and so opened none of the group's v1 traffic).
    if (this.teks.some((t) => t.k.version === k.version && equalBytes(t.tag, tag) && steppedTo(this.crypto, t.k, k))) return;
    // A copy: an engine erases the keys it exports when it leaves.
    this.teks.push({ k: { ...k, creators: [...k.creators], key: Uint8Array.from(k.key) }, tag });
  }

  /** The clear header of a control message (null: not a sealed control message of this group). */
  header(bytes: Uint8Array): SealedControlMessage | null {
    try {
      const m = decodeMessage(this.group, 'control', bytes);
      return m.type === MsgType.SealedControl ? m : null;
    } catch {
      return null;
    }
  }

  /** The inner message, if one of the known TEKs opens it. */
  open(bytes: Uint8Array): ControlMessage | null {
    return this.opened(bytes)?.message ?? null;
  }

  /** `m` sealed under the TEK (and revision) that opens `bytes`: an insider forging a variant of what it read. */
  reseal(bytes: Uint8Array, m: ControlMessage, nonce: Uint8Array): Uint8Array | null {
    const o = this.opened(bytes);
    if (!o) return null;
    const tek = { ...o.tek, revision: o.revision, key: advanceRevision(this.crypto, o.tek.key, o.tek.revision, o.revision) };
    return sealControlWith(this.crypto, this.group, tek, nonce, m);
  }

  /** The inner message and the known TEK that opened it, and the revision it was stepped to (the stepped key only when resealing). */
  private opened(bytes: Uint8Array): { message: ControlMessage; tek: TekKnown; revision: number } | null {
    const env = this.header(bytes);
    if (!env) return null;
    for (const [i, { k, tag }] of this.teks.entries()) {
      if (k.version !== env.tekVersion || k.revision > env.revision || env.revision - k.revision > MAX_STEPS || !equalBytes(tag, env.tekTag)) continue;
      const id = `${i}:${env.revision}`;
      let ck = this.derived.get(id);
      if (!ck) {
        ck = controlKey(this.crypto, advanceRevision(this.crypto, k.key, k.revision, env.revision));
        this.derived.set(id, ck);
      }
      const plain = this.crypto.open(ck, env.nonce, env.ciphertext, controlAad(this.group, env));
      if (!plain) continue;
      try {
        return { message: decodeControlInner(plain), tek: k, revision: env.revision };
      } catch {
        return null;
      }
    }
    return null;
  }

  /** The inner type of a control message (null when it does not open). */
  typeOf(bytes: Uint8Array): number | null {
    return this.open(bytes)?.type ?? null;
  }
}

/** `m` sealed under `tek` (at its revision) as a member publishes it on the control topic. */
export function sealControlWith(crypto: CryptoProvider, group: Uint8Array, tek: TekKnown, nonce: Uint8Array, m: ControlMessage): Uint8Array {
  const env: SealedControlMessage = {
    type: MsgType.SealedControl,
    tekVersion: tek.version,
    tekTag: creatorsTag(crypto, tek.creators),
    revision: tek.revision,
    nonce,
    ciphertext: new Uint8Array(0),
  };
  env.ciphertext = crypto.seal(controlKey(crypto, tek.key), nonce, encodeControlInner(m), controlAad(group, env));
  return encodeMessage(group, env);
}
