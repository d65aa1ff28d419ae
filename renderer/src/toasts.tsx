/**
 * Toasts: short messages in a corner (errors 8 s, information 4 s), at most four
 * on screen; `notify` is what every screen gets through the session to report one.
 */
import { useCallback, useRef, useState } from 'react';

export interface Toast {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

export type Notify = (text: string, kind?: 'error' | 'info') => void;

export function useToasts(): { toasts: Toast[]; notify: Notify } {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const seq = useRef(0);
  const notify = useCallback<Notify>((text, kind = 'error') => {
    const id = ++seq.current;
    setToasts((t) => [...t.slice(-3), { id, kind, text }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), kind === 'error' ? 8000 : 4000);
  }, []);
  return { toasts, notify };
}

export function Toasts({ toasts }: { toasts: Toast[] }) {
  return (
    <div className="toasts" aria-live="assertive">
      {toasts.map((t) => (
        <div key={t.id} className={`toast ${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'} data-testid="toast">
          {t.text}
        </div>
      ))}
    </div>
  );
}
