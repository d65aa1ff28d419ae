/**
 * Inviting someone: choose how many people a link admits and for how long,
 * copy it or show it as a QR code; see the group's invites with their uses
 * counted group-wide, and revoke one's own (issue 15 §2, issue 18 §6).
 */
import QRCode from 'qrcode';
import { useEffect, useEffectEvent, useState } from 'react';
import type { GroupSummary, InviteSummary } from '../../app/api/contract.js';
import { errorText, useSession } from './context.js';
import { Icon } from './Icon.js';
import { CREATE_DEFAULTS, LIFETIME_CHOICES, USE_CHOICES, describeInvite, peekInvite, sentence } from './invite-text.js';

interface Shown {
  invite: string;
  /** Null for the link made with the group (its defaults are known, its exact expiry is not). */
  expiresAt: number | null;
  id: string | null;
  uses: number;
}

export function Invite({ group, initialInvite }: { group: GroupSummary; initialInvite?: string }) {
  const { client, notify } = useSession();
  const [invite, setInvite] = useState<Shown | null>(() => {
    if (!initialInvite) return null;
    const peek = peekInvite(initialInvite);
    return { invite: initialInvite, expiresAt: peek?.expiresAt ?? null, id: peek?.id ?? null, uses: peek?.uses ?? CREATE_DEFAULTS.uses };
  });
  const [uses, setUses] = useState<number>(10);
  const [ttlSec, setTtlSec] = useState<number>(7 * 86_400);
  const [qr, setQr] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const [loading, setLoading] = useState(false);
  const [list, setList] = useState<InviteSummary[]>([]);

  const refresh = async () => {
    try {
      setList(await client.call('invite.list', { group: group.group }));
    } catch {
      // The list is informative; the link itself still works.
    }
  };

  const fresh = async () => {
    setLoading(true);
    try {
      const made = await client.call('group.invite', { group: group.group, uses, ttlSec });
      setInvite({ invite: made.invite, expiresAt: made.expiresAt, id: made.id, uses: made.uses });
      setCopied(false);
      void refresh();
    } catch (err) {
      notify(`Could not create an invite: ${sentence(errorText(err))}`, 'error');
    } finally {
      setLoading(false);
    }
  };

  const revoke = async (id: string) => {
    try {
      await client.call('invite.revoke', { group: group.group, id });
      if (invite?.id === id) setInvite(null);
      notify('Invite revoked: members will refuse it from now on.', 'info');
    } catch (err) {
      notify(`Could not revoke the invite: ${sentence(errorText(err))}`, 'error');
    }
    void refresh();
  };

  // Only when the group changes: the event sees the latest invite, `fresh` and `refresh` without re-running the effect.
  const onGroupShown = useEffectEvent(() => {
    if (!invite) void fresh();
    void refresh();
  });
  useEffect(() => onGroupShown(), [group.group]);

  useEffect(() => {
    if (!invite) {
      setQr(null);
      return;
    }
    let live = true;
    QRCode.toDataURL(invite.invite, { margin: 1, width: 480, errorCorrectionLevel: 'L', color: { dark: '#111827', light: '#ffffff' } })
      .then((url) => live && setQr(url))
      .catch(() => live && setQr(null));
    return () => {
      live = false;
    };
  }, [invite]);

  const copy = async () => {
    if (!invite) return;
    try {
      await navigator.clipboard.writeText(invite.invite);
    } catch {
      // Clipboard permission refused (e.g. insecure origin): select the text for a manual copy.
      const el = document.querySelector<HTMLElement>('[data-testid="invite-link"]');
      if (el) window.getSelection()?.selectAllChildren(el);
    }
    setCopied(true);
  };

  const now = Date.now();
  const summary = invite ? describeInvite(invite.uses, invite.expiresAt ?? now + CREATE_DEFAULTS.ttlSec * 1000, now, list.find((x) => x.id === invite.id)?.used ?? 0) : null;
  const others = list.filter((x) => x.id !== invite?.id);

  return (
    <section className="pane invite" aria-label="Invite">
      <header className="pane-head">
        <div>
          <h2>Invite people</h2>
          <p className="muted small">
            Anyone with this link can ask to join {group.name}, as many times as it allows and until it expires: share it only with the people you invite. It carries the addresses to reach the group and a secret that only members can recognise; no server sees it.
          </p>
        </div>
      </header>
      <div className="invite-body">
        <div className="invite-link-card">
          <div className="row">
            <label className="small">
              People{' '}
              <select data-testid="invite-uses" value={uses} onChange={(e) => setUses(Number(e.target.value))}>
                {USE_CHOICES.map((n) => (
                  <option key={n} value={n}>
                    {n === 1 ? '1 person' : `up to ${n}`}
                  </option>
                ))}
              </select>
            </label>
            <label className="small">
              Valid for{' '}
              <select data-testid="invite-lifetime" value={ttlSec} onChange={(e) => setTtlSec(Number(e.target.value))}>
                {LIFETIME_CHOICES.map((c) => (
                  <option key={c.sec} value={c.sec}>
                    {c.label}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" className="ghost" onClick={() => void fresh()} disabled={loading} data-testid="invite-new">
              New link
            </button>
          </div>
          <span className="label">Invite link</span>
          <code className="invite-link" data-testid="invite-link" tabIndex={0}>
            {invite?.invite ?? (loading ? 'Creating invite…' : 'No link: choose how many people and for how long, then New link.')}
          </code>
          {summary && (
            <p className="small" data-testid="invite-summary">
              {summary}
            </p>
          )}
          <div className="row">
            <button type="button" className="primary" onClick={() => void copy()} disabled={!invite} data-testid="invite-copy">
              <Icon name={copied ? 'check' : 'copy'} size={15} /> {copied ? 'Copied' : 'Copy link'}
            </button>
            {invite?.id && (
              <button type="button" className="ghost" onClick={() => void revoke(invite.id!)} data-testid="invite-revoke">
                Revoke this link
              </button>
            )}
          </div>
          <ol className="muted small how">
            <li>Send the link over any channel you trust.</li>
            <li>Your friend pastes it in Conclave → Join with an invite.</li>
            <li>A member proves to their device that it belongs to the group, then admits them and hands over their keys.</li>
          </ol>
          {others.length > 0 && (
            <div data-testid="invite-list">
              <span className="label">Other invites to this group</span>
              <ul className="small">
                {others.map((x) => (
                  <li key={x.id} data-testid="invite-item" data-revoked={x.revoked ? 'true' : 'false'}>
                    {x.revoked ? 'Revoked: ' : ''}
                    {describeInvite(x.uses, x.expiresAt, now, x.used)} {x.mine ? '' : '(made by another member)'}
                    {x.mine && !x.revoked && (
                      <button type="button" className="ghost" onClick={() => void revoke(x.id)} data-testid="invite-revoke">
                        Revoke
                      </button>
                    )}
                  </li>
                ))}
              </ul>
            </div>
          )}
        </div>
        <figure className="qr-card">
          {qr ? <img src={qr} alt="QR code of the invite link" data-testid="invite-qr" /> : <div className="qr-placeholder" />}
          <figcaption className="muted small">Scan with another device</figcaption>
        </figure>
      </div>
    </section>
  );
}
