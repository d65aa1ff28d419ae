/**
 * Who is in the group: online status, role, the participant ID as its W symbols
 * (it selects the member's key slots), and — when the group's policy allows this
 * member to — exclusion, behind a confirmation; for every other member, the
 * safety number to compare (Verify.tsx).
 */
import { useMemo, useState } from 'react';
import type { GroupSummary, Member } from '../../app/api/contract.js';
import { Confirm } from './Confirm.js';
import { errorText, useSession } from './context.js';
import { NotAMember } from './Departed.js';
import { useSafetyNumbers, VerifyDialog } from './Verify.js';
import { hueAmong, initials, memberHues, shortId, symbolsText } from './identity.js';

interface Props {
  group: GroupSummary;
  members: Member[];
  onChanged(): void;
}

export function Members({ group, members, onChanged }: Props) {
  const { client, notify } = useSession();
  const [target, setTarget] = useState<Member | null>(null);
  const [leaving, setLeaving] = useState(false);
  const [busy, setBusy] = useState(false);
  const hues = useMemo(() => memberHues(members.map((m) => m.peerId)), [members]);
  const safety = useSafetyNumbers(members);
  const [verifying, setVerifying] = useState<Member | null>(null);

  const exclude = async (m: Member) => {
    setTarget(null);
    setBusy(true);
    try {
      await client.call('group.exclude', { group: group.group, peers: [m.peerId] });
      notify(`${m.name} was excluded. New keys are being distributed.`, 'info');
      onChanged();
    } catch (err) {
      notify(`Could not exclude ${m.name}: ${errorText(err)}`, 'error');
    } finally {
      setBusy(false);
    }
  };

  const leave = async () => {
    setLeaving(false);
    try {
      await client.call('group.leave', { group: group.group });
      notify(`You left ${group.name}.`, 'info');
      onChanged();
    } catch (err) {
      notify(`Could not leave: ${errorText(err)}`, 'error');
    }
  };

  const order = (m: Member) => (m.self ? 0 : m.state !== 'member' ? 3 : m.online ? 1 : 2);
  const sorted = [...members].sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name));
  const current = members.filter((m) => m.state === 'member');
  const policyText =
    group.policy.exclude === 'any-member' ? 'Any member may exclude another member.' : 'Only admins may exclude members.';

  return (
    <section className="pane members" aria-label="Members">
      <header className="pane-head">
        <div>
          <h2>Members</h2>
          <p className="muted small">
            {current.length} {current.length === 1 ? 'member' : 'members'} · {current.filter((m) => m.online).length} online · {policyText}
          </p>
        </div>
        {group.state === 'member' && (
          <button type="button" className="ghost danger-text" onClick={() => setLeaving(true)} data-testid="group-leave">
            Leave group…
          </button>
        )}
      </header>
      <NotAMember state={group.state} cannot="invite or exclude members" />
      <ul className="member-list" data-testid="members-list">
        {sorted.map((m) => (
          <li
            key={m.peerId}
            className={`member-row state-${m.state}`}
            data-testid="member"
            data-peer={m.peerId}
            data-name={m.name}
            data-state={m.state}
            data-online={m.online}
            style={{ ['--h' as string]: hueAmong(hues, m.peerId) }}
          >
            <span className="avatar lg">
              {initials(m.name)}
              <span className={`presence ${m.online ? 'on' : 'off'}`} title={m.online ? 'Online' : 'Offline'} />
            </span>
            <div className="member-main">
              <div className="member-name">
                <strong>{m.name}</strong>
                {m.self && <span className="tag">you</span>}
                {m.role === 'admin' && <span className="tag accent">admin</span>}
                {m.state !== 'member' && <span className="tag danger">{m.state}</span>}
                {!m.self && safety.verified(m) && (
                  <span className="tag verified" data-testid="member-verified" title="You compared safety numbers with this member">
                    verified
                  </span>
                )}
              </div>
              <div className="member-meta muted small">
                <span title={m.peerId} className="mono">
                  {shortId(m.peerId, 8, 6)}
                </span>
                <span className="sep">·</span>
                <span>{m.online ? 'online' : 'offline'}</span>
              </div>
            </div>
            <div className="participant-id" title="Participant ID: one symbol per key-table row; each selects the KEK this member holds in that row">
              <span className="muted small">Participant ID</span>
              <span className="symbols mono" data-testid="participant-id">
                {m.participantId.map((s, i) => (
                  <span key={i} className="sym">
                    {s}
                  </span>
                ))}
              </span>
            </div>
            {!m.self && (
              <button type="button" className="ghost" onClick={() => setVerifying(m)} data-testid="member-verify">
                Verify…
              </button>
            )}
            {group.canExclude && group.state === 'member' && !m.self && m.state === 'member' && (
              <button type="button" className="ghost danger-text" disabled={busy} onClick={() => setTarget(m)} data-testid="member-exclude">
                Exclude…
              </button>
            )}
          </li>
        ))}
      </ul>
      {verifying && (
        <VerifyDialog
          member={verifying}
          number={safety.numbers.get(verifying.key)}
          onClose={() => {
            setVerifying(null);
            safety.refresh();
          }}
        />
      )}
      {leaving && (
        <Confirm title={`Leave ${group.name}?`} confirmLabel="Leave group" danger onCancel={() => setLeaving(false)} onConfirm={() => void leave()}>
          <p>The others replace the keys you hold; you will not receive new messages. This identity cannot be admitted to the group again: coming back takes a new invite opened in another profile.</p>
        </Confirm>
      )}
      {target && (
        <Confirm title={`Exclude ${target.name}?`} confirmLabel="Exclude" danger onCancel={() => setTarget(null)} onConfirm={() => void exclude(target)}>
          <p>
            {target.name} will be removed from <strong>{group.name}</strong>. Every key they hold is replaced, so they cannot read anything sent from now on.
          </p>
          <p className="muted small">Participant ID {symbolsText(target.participantId)}</p>
        </Confirm>
      )}
    </section>
  );
}
