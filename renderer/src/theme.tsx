/** Light and dark themes: follows the system until the user picks one, remembered per device. */
import { useEffect, useState } from 'react';
import { Icon } from './Icon.js';

export type ThemeChoice = 'light' | 'dark';
const KEY = 'conclave.theme';

function initial(): ThemeChoice {
  try {
    const saved = localStorage.getItem(KEY);
    if (saved === 'light' || saved === 'dark') return saved;
  } catch {
    /* storage may be unavailable */
  }
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function useTheme(): [ThemeChoice, (t: ThemeChoice) => void] {
  const [theme, setTheme] = useState<ThemeChoice>(initial);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  const choose = (t: ThemeChoice) => {
    setTheme(t);
    try {
      localStorage.setItem(KEY, t);
    } catch {
      /* not remembered, still applied */
    }
  };
  return [theme, choose];
}

export function ThemeToggle({ theme, setTheme }: { theme: ThemeChoice; setTheme(t: ThemeChoice): void }) {
  const next = theme === 'dark' ? 'light' : 'dark';
  return (
    <button type="button" className="ghost icon-btn" onClick={() => setTheme(next)} aria-label={`Switch to ${next} theme`} title={`Switch to ${next} theme`} data-testid="theme-toggle">
      <Icon name={theme === 'dark' ? 'sun' : 'moon'} />
    </button>
  );
}
