/**
 * @module core/engine/join-state
 * A joiner's state between its first JoinRequest and holding every key it needs: the contacts it
 * asked (only they may admit it, A5), the keys it still wants and from whom, and what its Admit
 * said of the admitter's TEK (the coverage a granted TEK takes, §8.2 *Coverage*). Owned by
 * admission.ts; the engine keeps one in `EngineCore.join`. Seeds: 003 [0061]–[0066]; 001.
 */
import type { MemberKey } from '../types.js';
import type { AdmitTekCoverage, Certificate } from '../wire.js';

export interface JoinState {
  credential: Uint8Array;
  contacts: MemberKey[];
  next: number;
  attemptAt: number;
  certificate: Certificate | null;
  /** Contacts this joiner sent a JoinRequest to: only they may admit or refuse it (A5, A6 in docs/protocol.md §12). */
  asked: Set<MemberKey>;
  /** slot → { owner asked, next retry, tries } */
  wanted: Map<number, { asked: MemberKey | null; retryAt: number; tries: number }>;
  /** The admitter's TEK and its coverage (from the Admit): the coverage of that TEK when it is granted. */
  coverage?: AdmitTekCoverage | null;
}

export function newJoin(credential: Uint8Array, contacts: MemberKey[], now: number): JoinState {
  return { credential, contacts, next: 0, attemptAt: now, certificate: null, asked: new Set(), wanted: new Map() };
}
