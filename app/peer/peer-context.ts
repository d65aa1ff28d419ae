/**
 * @module peer/peer-context
 * What every part of one running peer shares: the libp2p node, this peer's
 * identity (member key, peer ID, display name), the groups it runs, the event
 * sink towards clients, the diagnostic log and the stop flag — plus the small
 * helpers the parts agree on (who is connected, who is a current member, how a
 * JSON request frame is parsed). `peer.ts` builds one `PeerContext` and hands it
 * to the transport (`transport.ts`), the mesh upkeep (`mesh.ts`), catch-up
 * (`catch-up.ts`), joining (`join.ts`) and the API methods (`api-methods.ts`);
 * none of them imports another, so the wiring is visible in one place.
 *
 * Invariants:
 * - `groups` holds exactly the groups this peer has attached (their topics are
 *   subscribed and validated); it is keyed by the group ID (hex).
 * - `identity.current` is the profile's identity; only `profile.setName` changes
 *   it, and it is saved to the profile at once.
 * - `stopped()` turns true once `stop()` began; nothing new is started after it.
 */
import { multiaddr } from '@multiformats/multiaddr';
import type { ConclaveLibp2p } from '../net/node.js';
import { peerOfMemberKey } from '../net/ids.js';
import type { EventSink } from '../api/handler.js';
import type { MemberKey } from '../core/types.js';
import type { Profile, ProfileIdentity } from '../store/profile.js';
import type { GroupRuntime } from './group.js';

export interface PeerContext {
  readonly node: ConclaveLibp2p;
  readonly profile: Profile;
  /** The Ed25519 public key as hex: this peer's `MemberKey` in every engine. */
  readonly selfKey: MemberKey;
  readonly selfPeerId: string;
  /** The profile's identity (seed and display name); `profile.setName` replaces it. */
  readonly identity: { current: ProfileIdentity };
  readonly groups: Map<string, GroupRuntime>;
  /** Encrypted data messages kept per group for catch-up. */
  readonly keepTraffic: number;
  readonly emit: EventSink['emit'];
  readonly log: (line: string) => void;
  stopped(): boolean;
}

/** The peer ID (base58) of a member key; the key itself if it is not an Ed25519 key. */
export function peerIdOf(key: MemberKey): string {
  return peerOfMemberKey(key)?.toString() ?? key;
}

export function isConnected(node: ConclaveLibp2p, key: MemberKey): boolean {
  const pid = peerOfMemberKey(key);
  return pid ? node.getConnections(pid).length > 0 : false;
}

/** `key` is a current member of the group and this peer is one too: only then is it served history or addresses. */
export function isCurrentMember(rt: GroupRuntime, key: MemberKey): boolean {
  return rt.engine.state() === 'member' && rt.engine.rosterState(key) === 'member';
}

/** `key` in the group's roster (any engine state): member, left, excluded, or null if never. */
export function rosterStateOf(rt: GroupRuntime, key: MemberKey): 'member' | 'left' | 'excluded' | null {
  return rt.engine.rosterState(key);
}

/** `key` is in no roster of any group this peer runs (not even as left or excluded): a stranger. */
export function isStranger(groups: Map<string, GroupRuntime>, key: MemberKey): boolean {
  for (const rt of groups.values()) if (rosterStateOf(rt, key) !== null) return false;
  return true;
}

/** `key` is listed as a member in some group this peer runs. */
export function isMemberAnywhere(groups: Map<string, GroupRuntime>, key: MemberKey): boolean {
  for (const rt of groups.values()) if (rosterStateOf(rt, key) === 'member') return true;
  return false;
}

/** This peer's dialable addresses (not the wildcard listen addresses). */
export function ownAddresses(node: ConclaveLibp2p): string[] {
  return node
    .getMultiaddrs()
    .map((a) => a.toString())
    .filter((a) => !a.includes('/ip4/0.0.0.0') && !a.includes('/ip6/::/'));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A request frame as JSON, or null (not UTF-8, not JSON, absent). */
export function parseJsonFrame(frame: Uint8Array | undefined): unknown {
  if (!frame) return null;
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(frame));
  } catch {
    return null;
  }
}

export function validMultiaddr(a: string): boolean {
  try {
    multiaddr(a);
    return true;
  } catch {
    return false;
  }
}
