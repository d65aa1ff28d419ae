// Identities and invites for the invite-ledger attacks (attacks/review40-invite-ledger,
// review41-invite-ledger, review42-ledger-id-collision): a fresh member identity, and an invite it
// signs for a group.
import { randomBytes } from 'node:crypto';
import { nobleCrypto } from '../../../app/crypto/noble.js';
import { bytesToHex, peerIdStringOfMemberKey } from '../../../app/net/ids.js';
import { createInvite, parseInvite, type Invite } from '../../../app/peer/invite.js';
import { defaultParams } from '../../../app/peer/params.js';

export type Who = { seed: Uint8Array; key: string; peerId: string };

/** A fresh identity: its Ed25519 seed, member key and peer ID. */
export function who(): Who {
  const seed = new Uint8Array(randomBytes(32));
  const key = bytesToHex(nobleCrypto.ed25519PublicKey(seed));
  return { seed, key, peerId: peerIdStringOfMemberKey(key)! };
}

export const params = defaultParams({ exclude: 'any-member' });

/** An invite `inviter` signs for `group`, good for `uses` newcomers, until `expiresAt` (an hour from now by default). */
export const makeInvite = (inviter: Who, group: string, uses: number, expiresAt = Date.now() + 3_600_000): Invite =>
  parseInvite(createInvite({ group, name: 'door', params, inviterSeed: inviter.seed, inviterPeerId: inviter.peerId, addrs: [], expiresAt, uses, secret: new Uint8Array(randomBytes(16)) }), Date.now());
