// Review 44 (MEDIUM): while a group is joining without a TEK, the engine keeps every well-framed
// SealedControl it cannot open (core/engine/heartbeat.ts keepWhileJoining): at most 64 per sender and
// 512 in all, but with no bound in bytes, each up to LIMITS.controlBytes (512 KiB). Review 32
// bounded the peer layer's copy (early-control.ts, 8 MiB), not this one. 8 throwaway identities ×
// 64 messages of 512 KiB made a joiner hold 256 MiB for as long as its join lasted. Now 8 MiB in
// all, 1 MiB per sender, and a contact's message still makes room by evicting strangers'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { LIMITS } from '../../../app/core/wire-types.js';
import { MsgType, encodeMessage } from '../../../app/core/wire.js';
import { MAX_PENDING_SEALED_BYTES } from '../../../app/core/engine/heartbeat.js';
import { groupBytes, identity } from './forge.js';
import { joiner } from './joiner-runtime.js';

test('strangers cannot make a joining engine hold more than a few MiB of sealed control it cannot open', () => {
  const { g, rt, profile } = joiner();
  try {
    assert.equal(rt.engine.state(), 'joining');
    // A well-framed SealedControl as big as the control bound allows (its TEK is unknown to the joiner).
    const overhead = encodeMessage(groupBytes, { type: MsgType.SealedControl, tekVersion: 7, tekTag: new Uint8Array(8), revision: 0, nonce: new Uint8Array(24), ciphertext: new Uint8Array(0) } as never).length;
    const big = encodeMessage(groupBytes, { type: MsgType.SealedControl, tekVersion: 7, tekTag: new Uint8Array(8), revision: 0, nonce: new Uint8Array(randomBytes(24)), ciphertext: new Uint8Array(LIMITS.controlBytes - overhead - 8) } as never);
    assert.ok(big.length <= LIMITS.controlBytes, `${big.length}`);
    const verdicts: Record<string, number> = {};
    for (let s = 0; s < 8; s++) {
      const sybil = identity(`sybil${s}`).key; // a throwaway identity
      for (let i = 0; i < 64; i++) {
        const bytes = Uint8Array.from(big); // a distinct gossipsub message each (distinct buffers: what the network hands over)
        bytes[bytes.length - 1] = i;
        const v = rt.receive(sybil, 'control', bytes);
        verdicts[v] = (verdicts[v] ?? 0) + 1;
      }
    }
    const core = (rt.engine as unknown as { core: { pendingSealed: { from: string; bytes: Uint8Array }[] } }).core;
    const heldBytes = core.pendingSealed.reduce((n, p) => n + p.bytes.byteLength, 0);
    const heldMiB = Math.round(heldBytes / 1024 / 1024);
    assert.ok(heldBytes <= MAX_PENDING_SEALED_BYTES, `engine holds ${heldMiB} MiB of strangers' sealed control`);
    // The joiner's contact (its inviter) still gets its message kept: strangers' make room.
    const fromContact = Uint8Array.from(big);
    fromContact[fromContact.length - 1] = 255;
    rt.receive(g.ids.a!.key, 'control', fromContact);
    assert.ok(core.pendingSealed.some((p) => p.from === g.ids.a!.key), "the contact's message is kept");
    assert.ok(core.pendingSealed.reduce((n, p) => n + p.bytes.byteLength, 0) <= MAX_PENDING_SEALED_BYTES);
  } finally {
    rt.stop();
    profile.close();
  }
});
