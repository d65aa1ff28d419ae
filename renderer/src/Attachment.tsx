/**
 * A file or picture in the chat (issue 18 §1; docs/ui.md "Files and pictures"):
 * a picture shows its thumbnail at once and itself once it is here; any other
 * file is a card with its name, size and a Save button. While the content is on
 * its way (this client sending it, or this peer fetching it) a progress bar
 * shows how much is here. `data-state`: `sending` until every byte is here,
 * `ready`, or `failed` (with why).
 */
import { useEffect, useState } from 'react';
import type { FileAttachment } from '../../app/api/contract.js';
import { errorText, useSession } from './context.js';
import { fileStatesOf, formatSize, isPicture, pictureUrl, readWhole, useFileState, type PendingUpload } from './attachments.js';
import { extensionOf } from './file-name.js';

/** Pictures up to this size are shown whole inline; larger ones keep their thumbnail. */
const INLINE_MAX = 12 * 1024 * 1024;

function Progress({ have, size }: { have: number; size: number }) {
  const pct = size === 0 ? 100 : Math.floor((have / size) * 100);
  return (
    <div className="attachment-progress" data-testid="attachment-progress" data-value={pct} role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
      <span style={{ width: `${pct}%` }} />
    </div>
  );
}

function FileGlyph() {
  return (
    <svg className="file-glyph" width="28" height="28" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.7} strokeLinecap="round" strokeLinejoin="round" aria-hidden>
      <path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8l-5-5Z M14 3v5h5" />
    </svg>
  );
}

export function Attachment({ group, file }: { group: string; file: FileAttachment }) {
  const { client, notify } = useSession();
  const states = fileStatesOf(client);
  const status = useFileState(states, group, file.id);
  const [full, setFull] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const picture = isPicture(file.mime);

  useEffect(() => {
    states.refresh(group, file.id).catch(() => undefined);
  }, [states, group, file.id]);

  const ready = status?.state === 'ready';
  useEffect(() => {
    if (!ready || !picture || file.size > INLINE_MAX || full) return;
    let live = true;
    readWhole(client, group, file.id, file.size)
      .then((bytes) => live && setFull(pictureUrl(file.mime, bytes)))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [ready, picture, file, group, client, full]);

  const save = async () => {
    setSaving(true);
    try {
      const bytes = await readWhole(client, group, file.id, file.size);
      const url = URL.createObjectURL(new Blob([bytes], { type: file.mime }));
      const a = document.createElement('a');
      a.href = url;
      a.download = file.name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      notify(`Could not save ${file.name}: ${errorText(err)}`, 'error');
    } finally {
      setSaving(false);
    }
  };

  const state = ready ? 'ready' : status?.state === 'failed' ? 'failed' : 'sending';
  return (
    <div className={`attachment ${picture ? 'picture' : 'file-card'} ${state}`} data-testid="attachment" data-name={file.name} data-size={file.size} data-state={state} data-file-id={file.id} data-sha256={file.sha256}>
      {picture && (full ?? file.thumb) && <img src={full ?? file.thumb} alt={file.name} className={full ? 'full' : 'thumb'} data-testid="attachment-image" data-full={full ? 'true' : undefined} />}
      <div className="attachment-meta">
        {!picture && <FileGlyph />}
        <div className="attachment-text">
          <FileName name={file.name} title />
          <span className="muted small">
            {formatSize(file.size)}
            {state === 'sending' && status && ` · ${formatSize(status.have)} here`}
            {state === 'failed' && ` · ${status?.detail ?? 'failed'}`}
          </span>
        </div>
        {ready && (
          <button type="button" className="secondary small" data-testid="attachment-save" disabled={saving} onClick={() => void save()}>
            {saving ? 'Saving…' : 'Save'}
          </button>
        )}
      </div>
      {state === 'sending' && <Progress have={status?.have ?? 0} size={file.size} />}
    </div>
  );
}

/**
 * A file name cut in its middle, never at its end: the extension a Save gives the file is always
 * in sight (review 31: a long name pushed `.exe` out of the card behind an ellipsis).
 */
function FileName({ name, title = false }: { name: string; title?: boolean }) {
  const ext = extensionOf(name);
  return (
    <span className="attachment-name" dir="auto" {...(title ? { title: name } : {})}>
      <span className="attachment-stem">{name.slice(0, name.length - ext.length)}</span>
      {ext && <span className="attachment-ext">{ext}</span>}
    </span>
  );
}

/** A file this client is still sending: its message does not exist yet. */
export function PendingAttachment({ upload, onDismiss }: { upload: PendingUpload; onDismiss(): void }) {
  return (
    <div className={`attachment file-card ${upload.state}`} data-testid="attachment" data-name={upload.name} data-size={upload.size} data-state={upload.state} data-pending="true">
      <div className="attachment-meta">
        <FileGlyph />
        <div className="attachment-text">
          <FileName name={upload.name} />
          <span className="muted small">
            {upload.state === 'failed' ? `Not sent: ${upload.error ?? 'failed'}` : `Sending · ${formatSize(upload.sent)} of ${formatSize(upload.size)}`}
          </span>
        </div>
        {upload.state === 'failed' && (
          <button type="button" className="ghost small" aria-label="Dismiss" onClick={onDismiss}>
            ✕
          </button>
        )}
      </div>
      {upload.state === 'sending' && <Progress have={upload.sent} size={upload.size} />}
    </div>
  );
}
