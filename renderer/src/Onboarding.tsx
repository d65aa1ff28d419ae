/**
 * First run and "new group": pick a display name, then create a group or paste
 * an invite. While joining, the peer's `group.joinProgress` events drive a
 * checklist (LAN discovery, reaching members — through a relay, direct or on the
 * LAN once the path to the inviter is known —, admission, keys).
 */
import { useEffect, useEffectEvent, useRef, useState, type FormEvent } from 'react';
import type { EventPayload } from '../../app/api/contract.js';
import type { ConclaveClient } from './client.js';
import { errorText, useEvent } from './context.js';
import { sentence } from './invite-text.js';
import { Icon } from './Icon.js';
import { LIMITS, limitState } from './limits.js';

type Stage = EventPayload<'group.joinProgress'>['stage'];
type Path = NonNullable<EventPayload<'group.joinProgress'>['path']>;

/** What "reaching members" says once the path to the inviter is known (issue 16 §8). */
const PATH_TEXT: Record<Path, { label: string; hint: string }> = {
  relayed: { label: 'Reaching the inviter through a relay…', hint: 'Connected through a relay; trying for a direct connection' },
  direct: { label: 'Direct connection established', hint: 'Connected to the inviter over the internet, no relay in between' },
  lan: { label: 'Connected on the local network', hint: 'The inviter is on this network' },
};

const STAGES: { stage: Exclude<Stage, 'failed'>; label: string; hint: string }[] = [
  { stage: 'looking-lan', label: 'Looking on the local network', hint: 'Asking nearby peers (mDNS)' },
  { stage: 'reaching-peers', label: 'Reaching members', hint: 'Dialling the addresses in the invite' },
  { stage: 'waiting-admission', label: 'Waiting for admission', hint: 'A member checks the invite' },
  { stage: 'keys-received', label: 'Keys received', hint: 'Group key and your key slots arrived' },
];

interface Props {
  client: ConclaveClient;
  initialName: string;
  initialInvite?: string;
  /** Whether the user already has groups (then the screen can be closed). */
  onCancel?: () => void;
  onDone(group: string, invite?: string): void;
}

export function Onboarding({ client, initialName, initialInvite, onCancel, onDone }: Props) {
  const [name, setName] = useState(initialName);
  const [groupName, setGroupName] = useState('');
  const [invite, setInvite] = useState(initialInvite ?? '');
  const [busy, setBusy] = useState<'create' | 'join' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reached, setReached] = useState<Stage | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [path, setPath] = useState<Path | null>(null);
  const joiningGroup = useRef<string | null>(null);
  const finished = useRef(false);
  const nameRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (initialInvite) setInvite(initialInvite);
  }, [initialInvite]);
  useEffect(() => nameRef.current?.focus(), []);

  const finish = (group: string, inv?: string) => {
    if (finished.current) return;
    finished.current = true;
    onDone(group, inv);
  };

  useEvent(client, 'group.joinProgress', (p) => {
    if (busy !== 'join') return;
    if (joiningGroup.current && p.group !== joiningGroup.current) return;
    if (p.stage === 'failed') {
      setFailure(p.detail ?? 'The join did not complete.');
      setBusy(null);
      return;
    }
    if (p.path) setPath(p.path);
    setReached((prev) => (prev && STAGES.findIndex((s) => s.stage === prev) > STAGES.findIndex((s) => s.stage === p.stage) ? prev : p.stage));
    if (p.stage === 'keys-received') finish(p.group);
  });

  // A join may resolve before admission: watch the group list until we are a member.
  // `finish` through an effect event: the poll sees the latest one without restarting.
  const finishJoined = useEffectEvent((g: string) => finish(g));
  useEffect(() => {
    if (busy !== 'join') return;
    const poll = async () => {
      const g = joiningGroup.current;
      if (!g) return;
      try {
        const list = await client.call('group.list', {});
        if (list.find((x) => x.group === g)?.state === 'member') {
          setReached('keys-received');
          finishJoined(g);
        }
      } catch {
        /* the next tick retries */
      }
    };
    const timer = setInterval(() => void poll(), 1000); // poll() handles its own errors
    return () => clearInterval(timer);
  }, [busy, client]);

  const saveName = async () => {
    const trimmed = name.trim();
    if (trimmed.length > LIMITS.displayName) {
      setError(`Your name is ${trimmed.length} characters long; at most ${LIMITS.displayName} fit. Shorten it first.`);
      nameRef.current?.focus();
      return false;
    }
    if (!trimmed) {
      setError('Choose a name first: it is how the others see you.');
      nameRef.current?.focus();
      return false;
    }
    if (trimmed !== initialName) await client.call('profile.setName', { name: trimmed });
    return true;
  };

  const create = async (e?: FormEvent) => {
    e?.preventDefault();
    if (busy) return;
    setError(null);
    setBusy('create');
    try {
      if (!(await saveName())) return;
      if (groupName.trim().length > LIMITS.groupName) {
        setError(`The group name is ${groupName.trim().length} characters long; at most ${LIMITS.groupName} fit. Shorten it first.`);
        return;
      }
      const res = await client.call('group.create', { name: groupName.trim() || `${name.trim()}'s group` });
      finish(res.group, res.invite);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  };

  const join = async (e?: FormEvent) => {
    e?.preventDefault();
    if (busy) return;
    const text = invite.trim();
    setError(null);
    setFailure(null);
    setReached(null);
    setPath(null);
    if (!text) {
      setError('Paste the invite link you were sent.');
      return;
    }
    setBusy('join');
    try {
      if (!(await saveName())) {
        setBusy(null);
        return;
      }
      const res = await client.call('group.join', { invite: text });
      joiningGroup.current = res.group;
      const list = await client.call('group.list', {});
      if (list.find((x) => x.group === res.group)?.state === 'member') {
        setReached('keys-received');
        finish(res.group);
      }
    } catch (err) {
      setError(sentence(errorText(err)));
      setBusy(null);
    }
  };

  const nameLimit = limitState(name.trim(), LIMITS.displayName);
  const groupLimit = limitState(groupName.trim(), LIMITS.groupName);
  const reachedIndex = reached ? STAGES.findIndex((s) => s.stage === reached) : -1;
  const joining = busy === 'join' || failure !== null;

  return (
    <div className="onboarding">
      <div className="onboarding-card">
        <header className="onboarding-head">
          <Logo />
          <div>
            <h1>Conclave</h1>
            <p className="muted">End-to-end encrypted group chat and whiteboard. No servers: your group lives on its members' devices.</p>
          </div>
          {onCancel && (
            <button type="button" className="ghost icon-btn" onClick={onCancel} aria-label="Close">
              <Icon name="close" />
            </button>
          )}
        </header>

        <label className="field">
          <span>Your name</span>
          <input
            ref={nameRef}
            data-testid="onboarding-name"
            value={name}
            placeholder="How others will see you"
            onChange={(e) => setName(e.target.value)}
            disabled={busy !== null}
            aria-invalid={nameLimit.over}
          />
          {nameLimit.text && (
            <small className={`limit-note ${nameLimit.over ? 'over' : ''}`} data-testid="name-limit" data-over={nameLimit.over}>
              {nameLimit.text}
            </small>
          )}
        </label>

        <div className="onboarding-choices">
          <form className="choice" onSubmit={(e) => void create(e)}>
            <h2>Start a new group</h2>
            <p className="muted small">You create the first keys and can invite others.</p>
            <label className="field">
              <span>Group name</span>
              <input
                data-testid="create-group-name"
                value={groupName}
                placeholder={name.trim() ? `${name.trim()}'s group` : 'Project room'}
                onChange={(e) => setGroupName(e.target.value)}
                disabled={busy !== null}
                aria-invalid={groupLimit.over}
              />
              {groupLimit.text && (
                <small className={`limit-note ${groupLimit.over ? 'over' : ''}`} data-testid="group-name-limit" data-over={groupLimit.over}>
                  {groupLimit.text}
                </small>
              )}
            </label>
            <button type="submit" className="primary" data-testid="create-group" disabled={busy !== null || groupLimit.over || nameLimit.over}>
              {busy === 'create' ? 'Creating keys…' : 'Create group'}
            </button>
          </form>

          <form className="choice" onSubmit={(e) => void join(e)}>
            <h2>Join with an invite</h2>
            <p className="muted small">Paste the link a member shared with you.</p>
            <label className="field">
              <span>Invite link</span>
              <textarea
                data-testid="join-invite"
                value={invite}
                rows={3}
                spellCheck={false}
                placeholder="conclave://join/…"
                onChange={(e) => setInvite(e.target.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' && !e.shiftKey) {
                    e.preventDefault();
                    void join();
                  }
                }}
                disabled={busy !== null}
              />
            </label>
            <button type="submit" className="secondary" data-testid="join-submit" disabled={busy !== null || nameLimit.over}>
              {busy === 'join' ? 'Joining…' : 'Join group'}
            </button>
          </form>
        </div>

        {error && (
          <p className="form-error" role="alert" data-testid="onboarding-error">
            {error}
          </p>
        )}

        {joining && (
          <ol className="join-progress" data-testid="join-progress" aria-live="polite">
            {STAGES.map((s, i) => {
              const state = i <= reachedIndex ? 'done' : i === reachedIndex + 1 && !failure ? 'active' : failure && i === reachedIndex + 1 ? 'failed' : 'todo';
              const text = s.stage === 'reaching-peers' && path ? PATH_TEXT[path] : s;
              return (
                <li key={s.stage} className={`step ${state}`} data-stage={s.stage} data-state={state} {...(s.stage === 'reaching-peers' && path ? { 'data-path': path } : {})}>
                  <span className="step-dot" aria-hidden>
                    {state === 'done' ? <Icon name="check" size={14} /> : state === 'failed' ? '!' : i + 1}
                  </span>
                  <span>
                    <strong>{text.label}</strong>
                    <small className="muted">{state === 'failed' ? failure : text.hint}</small>
                  </span>
                </li>
              );
            })}
          </ol>
        )}
      </div>
    </div>
  );
}

export function Logo({ size = 40 }: { size?: number }) {
  return (
    <svg className="logo" width={size} height={size} viewBox="0 0 48 48" aria-hidden>
      <defs>
        <linearGradient id="lg" x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stopColor="var(--accent)" />
          <stop offset="1" stopColor="var(--accent-2)" />
        </linearGradient>
      </defs>
      <rect x="2" y="2" width="44" height="44" rx="13" fill="url(#lg)" />
      <circle cx="17" cy="19" r="5" fill="#fff" opacity=".95" />
      <circle cx="31" cy="19" r="5" fill="#fff" opacity=".8" />
      <circle cx="24" cy="31" r="5" fill="#fff" opacity=".65" />
      <path d="M17 19 L31 19 L24 31 Z" stroke="#fff" strokeWidth="1.6" fill="none" opacity=".7" />
    </svg>
  );
}
