/** The desktop transport: the preload's `window.conclave` (see bridge-api.ts). */
import type { ConclaveBridge } from './bridge-api.js';
import type { ConclaveClient } from './client.js';

export function bridgeClient(bridge: ConclaveBridge): ConclaveClient {
  return {
    transport: 'electron',
    call: (method, params) => bridge.call(method, params),
    on: (event, listener) => bridge.on(event, listener),
    onJoinLink: (listener) => bridge.onJoinLink(listener),
    onLinkState: (listener) => {
      listener('open');
      return () => undefined;
    },
  };
}
