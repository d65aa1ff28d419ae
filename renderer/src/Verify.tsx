/**
 * Verifying a member (issue 18 §7): the safety number of this device's member
 * key and theirs (`safety-number.ts`), to compare in person or on a call, and a
 * mark "verified" kept on this device. `useSafetyNumbers` computes the numbers
 * for a member list so the Members tab can tag who is verified.
 */
import { useEffect, useState } from 'react';
import type { Member } from '../../app/api/contract.js';
import { isVerified, safetyNumber, setVerified } from './safety-number.js';

/** Safety numbers of this device with every other member, by member key. */
export function useSafetyNumbers(members: readonly Member[]): { numbers: ReadonlyMap<string, string[]>; verified(m: Member): boolean; refresh(): void } {
  const [numbers, setNumbers] = useState<ReadonlyMap<string, string[]>>(new Map());
  const [, setTick] = useState(0);
  const self = members.find((m) => m.self)?.key;
  const others = members.filter((m) => !m.self).map((m) => m.key).join(',');
  useEffect(() => {
    if (!self) return;
    let cancelled = false;
    const keys = others ? others.split(',') : [];
    void Promise.all(keys.map(async (k) => [k, await safetyNumber(self, k)] as const)).then((pairs) => {
      if (!cancelled) setNumbers(new Map(pairs));
    });
    return () => {
      cancelled = true;
    };
  }, [self, others]);
  return {
    numbers,
    verified: (m) => {
      const n = numbers.get(m.key);
      return n !== undefined && isVerified(m.key, n);
    },
    refresh: () => setTick((t) => t + 1),
  };
}

interface Props {
  member: Member;
  number: string[] | undefined;
  onClose(): void;
}

export function VerifyDialog({ member, number, onClose }: Props) {
  const verified = number !== undefined && isVerified(member.key, number);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="verify-title" data-testid="verify-dialog">
        <h2 id="verify-title">Verify {member.name}</h2>
        <div className="modal-body">
          <p>
            Compare this number with the one {member.name} sees for you (Members → Verify…), in person or on a call. If every digit matches, the keys your screens
            show are really yours and theirs: nobody is in between.
          </p>
          <div className="safety-number mono" data-testid="safety-number">
            {number ? number.map((g, i) => <span key={i}>{g}</span>) : 'computing…'}
          </div>
        </div>
        <div className="modal-actions">
          <button type="button" className="ghost" onClick={onClose}>
            Close
          </button>
          {number && (
            <button
              type="button"
              className={verified ? 'ghost' : 'primary'}
              data-testid="verify-mark"
              onClick={() => {
                setVerified(member.key, verified ? null : number);
                onClose();
              }}
            >
              {verified ? 'Remove the mark' : 'The numbers match: mark verified'}
            </button>
          )}
        </div>
      </div>
    </div>
  );
}
