/**
 * Entry: picks the transport. Inside the desktop app the preload has exposed
 * `window.conclave`; in a browser the page was opened from the URL the web-mode
 * peer printed, whose `?token=` authorises the WebSocket.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import type { ConclaveBridge } from './bridge-api.js';
import { bridgeClient } from './bridge-client.js';
import type { ConclaveClient } from './client.js';
import { apiUrlFromLocation, wsClient } from './ws-client.js';
import './styles.css';

declare global {
  interface Window {
    conclave?: ConclaveBridge;
  }
}

const TOKEN_KEY = 'conclave.token';

function browserToken(): string | null {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    // Keep the secret out of the address bar and screenshots (the browser's history still has the URL it opened: docs/ui.md).
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : '') + location.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function connect(): ConclaveClient | null {
  if (window.conclave) return bridgeClient(window.conclave);
  const token = browserToken();
  if (!token) return null;
  const client = wsClient({ url: apiUrlFromLocation(location, token) });
  // A refused token is useless from now on: forget it, so a reload says to open the printed URL.
  client.onLinkState((state) => {
    if (state === 'refused') sessionStorage.removeItem(TOKEN_KEY);
  });
  return client;
}

const root = createRoot(document.getElementById('root')!);
const client = connect();
root.render(
  <StrictMode>
    {client ? (
      <App client={client} />
    ) : (
      <div className="app-loading">
        <h1>Conclave</h1>
        <p className="muted">This page needs the access token printed by <code>npm run web</code>. Open the full URL it shows.</p>
      </div>
    )}
  </StrictMode>,
);
