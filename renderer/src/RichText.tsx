/** Renders `rich-text.ts` parts as React elements: text stays text, links are http(s) only. */
import { useMemo, type ReactNode } from 'react';
import { richParts, type RichPart } from './rich-text.js';

function render(parts: RichPart[]): ReactNode[] {
  return parts.map((p, i) => {
    switch (p.kind) {
      case 'text':
        return p.text;
      case 'code':
        return <code key={i}>{p.text}</code>;
      case 'bold':
        return <strong key={i}>{render(p.parts)}</strong>;
      case 'italic':
        return <em key={i}>{render(p.parts)}</em>;
      case 'link':
        return (
          <a key={i} href={p.href} target="_blank" rel="noopener noreferrer" dir="ltr" className="message-link" data-testid="message-link">
            {p.text}
          </a>
        );
    }
  });
}

/** Parsed once per text, not on every render of its row. */
export function RichText({ text }: { text: string }) {
  const parts = useMemo(() => richParts(text), [text]);
  return <>{render(parts)}</>;
}
