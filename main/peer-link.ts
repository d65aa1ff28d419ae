/**
 * Main's end of the peer process: forks peer-process.ts as an Electron
 * `utilityProcess`, hands it the profile and its storage key, and then offers
 * main what it offered before the move — `call(method, params)` resolving to a
 * CallReply, `subscribe(listener)` for API events, `stop()` — so the bridge in
 * shell.ts stays as narrow as it was.
 *
 * Invariants:
 * - Every message from the peer process is parsed (peer-protocol.ts) before use;
 *   replies are matched to calls by id; an unknown id or a malformed message is
 *   dropped. Events are checked against the contract again in the bridge.
 * - The storage key is posted once, after the process said hello, and main's
 *   copy is zeroed once posted (postMessage clones it).
 * - If the process exits, every pending call is answered with an error, and
 *   `onExit` listeners learn whether it was asked to stop.
 * - `stop()` asks the peer to stop (it flushes the store), then ends the
 *   process; if it has not stopped within STOP_GRACE_MS it is killed.
 */
import type { CallReply } from './ipc-validation.js';
import { parseFromPeer, type ToPeer } from './peer-protocol.js';

/** The part of Electron's `UtilityProcess` used here. */
interface ForkedProcess {
  postMessage(message: ToPeer): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
}

/** `utilityProcess.fork`, as much of it as is used here. */
export type Fork = (modulePath: string, args: string[], options: { serviceName: string; stdio: 'inherit' }) => ForkedProcess;

export interface PeerLink {
  peerId: string;
  call(method: string, params: unknown): Promise<CallReply>;
  subscribe(listener: (event: string, payload: unknown) => void): () => void;
  /** Called once when the process ends; `expected` is true after stop(). */
  onExit(listener: (code: number, expected: boolean) => void): void;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 10_000;
const PEER_SERVICE_NAME = 'Conclave peer';

/** Forks the peer process and resolves once its peer is running (rejects with its start error). */
export function startPeerProcess(fork: Fork, entry: string, options: { profile: string; storageKey: Uint8Array }): Promise<PeerLink> {
  const child = fork(entry, [], { serviceName: PEER_SERVICE_NAME, stdio: 'inherit' });
  const pending = new Map<number, (reply: CallReply) => void>();
  const listeners = new Set<(event: string, payload: unknown) => void>();
  const exitListeners: ((code: number, expected: boolean) => void)[] = [];
  let nextId = 1;
  let sentStart = false;
  let exited = false;
  let stopping = false;
  let onStopped: (() => void) | null = null;
  let settle: { resolve: (link: PeerLink) => void; reject: (err: Error) => void } | null = null;

  const link: PeerLink = {
    peerId: '',
    call(method, params) {
      if (exited) return Promise.resolve({ ok: false, code: -32603, message: 'the peer has stopped' });
      const id = nextId++;
      return new Promise<CallReply>((resolve) => {
        pending.set(id, resolve);
        child.postMessage({ kind: 'call', id, method, params });
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onExit(listener) {
      exitListeners.push(listener);
    },
    stop() {
      if (exited) return Promise.resolve();
      stopping = true;
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill(), STOP_GRACE_MS);
        exitListeners.push(() => {
          clearTimeout(timer);
          resolve();
        });
        onStopped = () => child.kill();
        child.postMessage({ kind: 'stop' });
      });
    },
  };

  child.on('message', (raw) => {
    const message = parseFromPeer(raw);
    if (!message) return;
    switch (message.kind) {
      case 'hello':
        if (sentStart) break;
        sentStart = true;
        child.postMessage({ kind: 'start', profile: options.profile, storageKey: options.storageKey });
        options.storageKey.fill(0);
        break;
      case 'ready':
        link.peerId = message.peerId;
        settle?.resolve(link);
        settle = null;
        break;
      case 'failed':
        settle?.reject(new Error(message.message));
        settle = null;
        stopping = true;
        child.kill();
        break;
      case 'reply': {
        const resolve = pending.get(message.id);
        pending.delete(message.id);
        resolve?.(message.reply);
        break;
      }
      case 'event':
        for (const l of listeners) l(message.event, message.payload);
        break;
      case 'stopped':
        onStopped?.();
        break;
    }
  });
  child.on('exit', (code) => {
    if (exited) return;
    exited = true;
    for (const resolve of pending.values()) resolve({ ok: false, code: -32603, message: 'the peer has stopped' });
    pending.clear();
    settle?.reject(new Error(`the peer process exited (code ${code}) before its peer started`));
    settle = null;
    for (const l of exitListeners.splice(0)) l(code, stopping);
  });
  return new Promise<PeerLink>((resolve, reject) => {
    settle = { resolve, reject };
  });
}
