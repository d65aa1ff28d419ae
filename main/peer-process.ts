/**
 * Entry of the desktop app's peer process: an Electron `utilityProcess` that
 * main forks (peer-link.ts) and that runs the same peer the headless modes run
 * (`startPeer` from app/peer, as `conclave peer` and `npm run web` do). Main
 * keeps only the window and the bridge, so the window never waits on libp2p,
 * the engines or the store's fsyncs.
 *
 * It speaks peer-protocol.ts over `process.parentPort`: says hello once it
 * listens, starts the peer on `start` (the storage key arrives here, unwrapped
 * by main's safeStorage, and never touches argv or the environment), answers
 * each `call` through the peer's API handler (which validates params and
 * results against the contract), forwards every API event, and on `stop`
 * stops the peer (which flushes the store; a start still under way is awaited
 * first) before saying `stopped`. Electron ends this process with main. A stray rejection in a networking library is logged, not fatal,
 * as in the headless peer.
 */
import '../app/net/shim.js';
import type { RunningPeer, StartPeerOptions } from '../app/peer/peer.js';
import { errorReply } from './ipc-validation.js';
import { parseToPeer, type FromPeer } from './peer-protocol.js';

/** The part of Electron's `process.parentPort` used here. */
interface ParentPortLike {
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  postMessage(message: FromPeer): void;
}

/** Serves one peer over `port`; `start` is `startPeer` in the app, injectable for tests. */
export function servePeer(port: ParentPortLike, start: (options: StartPeerOptions) => Promise<RunningPeer>): void {
  let peer: RunningPeer | null = null;
  let starting: Promise<RunningPeer | null> = Promise.resolve(null);
  let phase: 'idle' | 'starting' | 'running' | 'stopping' = 'idle';
  const log = (line: string) => console.log(`[peer] ${line}`);

  async function stop(): Promise<void> {
    if (phase === 'stopping') return;
    phase = 'stopping';
    const running = peer ?? (await starting);
    peer = null;
    await running?.stop().catch((err: unknown) => log(`stop failed: ${err instanceof Error ? err.message : String(err)}`));
    port.postMessage({ kind: 'stopped' });
  }

  port.on('message', ({ data }) => {
    const message = parseToPeer(data);
    if (!message) return;
    if (message.kind === 'start' && phase === 'idle') {
      phase = 'starting';
      starting = start({ profile: message.profile, storageKey: message.storageKey, log }).then(
        (running) => {
          if (phase !== 'starting') return running; // stop() arrived meanwhile and stops it
          peer = running;
          phase = 'running';
          running.api.subscribe((event, payload) => port.postMessage({ kind: 'event', event, payload }));
          port.postMessage({ kind: 'ready', peerId: running.peerId });
          return running;
        },
        (err: unknown) => {
          if (phase === 'starting') phase = 'idle';
          port.postMessage({ kind: 'failed', message: err instanceof Error ? err.message : String(err) });
          return null;
        },
      );
    } else if (message.kind === 'call') {
      const running = peer;
      if (!running) {
        port.postMessage({ kind: 'reply', id: message.id, reply: { ok: false, code: -32603, message: 'the peer is not running' } });
        return;
      }
      running.api.call(message.method, message.params).then(
        (result) => port.postMessage({ kind: 'reply', id: message.id, reply: { ok: true, result } }),
        (err: unknown) => port.postMessage({ kind: 'reply', id: message.id, reply: errorReply(err) }),
      );
    } else if (message.kind === 'stop') {
      void stop();
    }
  });
  port.postMessage({ kind: 'hello' });
}

const parentPort = (process as { parentPort?: ParentPortLike }).parentPort;
if (parentPort) {
  process.on('unhandledRejection', (reason) => console.error(`[peer] ignored unhandled rejection: ${reason instanceof Error ? reason.name : typeof reason}`));
  const { startPeer } = await import('../app/peer/peer.js');
  servePeer(parentPort, startPeer);
}
