/** Inviting someone: a fresh invite link to copy, and the same link as a QR code. */
import QRCode from 'qrcode';
import { useEffect, useEffectEvent, useState } from 'react';
import type { GroupSummary } from '../../app/api/contract.js';
import { errorText, useSession } from './context.js';
import { Icon } from './Icon.js';

export function Invite({ group, initialInvite }: { group: GroupSummary; initialInvite?: string }) {
  const { client, notify } = useSession();
  const [invite, setInvite] = useState<{ invite: string; expiresAt: number | null } | null>(initialInvite ? { invite: initialInvite, expiresAt: null } : null);
  const [qr, setQr] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const [loading, setLoading] = useState(false);

  const fresh = async () => {
    setLoading(true);
    try {
      setInvite(await client.call('group.invite', { group: group.group }));
      setCopied(false);
    } catch (err) {
      notify(`Could not create an invite: ${errorText(err)}`, 'error');
    } finally {
      setLoading(false);
    }
  };

  // Only when the group changes: the event sees the latest invite and `fresh` without re-running the effect.
  const onGroupShown = useEffectEvent(() => {
    if (!invite) void fresh();
  });
  useEffect(() => onGroupShown(), [group.group]);

  useEffect(() => {
    if (!invite) return;
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

  return (
    <section className="pane invite" aria-label="Invite">
      <header className="pane-head">
        <div>
          <h2>Invite people</h2>
          <p className="muted small">Anyone with this link can ask to join {group.name}. It carries addresses to reach the group and a one-time secret; no server sees it.</p>
        </div>
      </header>
      <div className="invite-body">
        <div className="invite-link-card">
          <span className="label">Invite link</span>
          <code className="invite-link" data-testid="invite-link" tabIndex={0}>
            {invite?.invite ?? (loading ? 'Creating invite…' : '')}
          </code>
          <div className="row">
            <button type="button" className="primary" onClick={() => void copy()} disabled={!invite} data-testid="invite-copy">
              <Icon name={copied ? 'check' : 'copy'} size={15} /> {copied ? 'Copied' : 'Copy link'}
            </button>
            <button type="button" className="ghost" onClick={() => void fresh()} disabled={loading}>
              New link
            </button>
            {invite?.expiresAt && <span className="muted small">Expires {new Date(invite.expiresAt).toLocaleString()}</span>}
          </div>
          <ol className="muted small how">
            <li>Send the link over any channel you trust.</li>
            <li>Your friend pastes it in Conclave → Join with an invite.</li>
            <li>A member admits them and hands over their keys.</li>
          </ol>
        </div>
        <figure className="qr-card">
          {qr ? <img src={qr} alt="QR code of the invite link" data-testid="invite-qr" /> : <div className="qr-placeholder" />}
          <figcaption className="muted small">Scan with another device</figcaption>
        </figure>
      </div>
    </section>
  );
}
