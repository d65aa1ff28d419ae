/**
 * The messages between the desktop main process and the peer's utility
 * process (peer-process.ts), and their checks. The peer — libp2p, the engines,
 * the store and its fsyncs — runs in that process so the window never waits on
 * the network or the disk; main only forwards the typed bridge.
 *
 *   main → peer: start {profile, storageKey} once, after the peer's hello;
 *                call {id, method, params} (already checked by ipc-validation);
 *                stop.
 *   peer → main: hello (its port listens); ready {peerId} | failed {message};
 *                reply {id, reply}; event {event, payload}; stopped.
 *
 * Invariants: every message that crosses is parsed here before it is acted on
 * (a malformed one is dropped, never trusted); errors cross as {code, message}
 * only (ipc-validation's CallReply); the storage key crosses once, in `start`,
 * never in argv or the environment. Pure: no Electron import.
 */
import type { CallReply } from './ipc-validation.js';

export type ToPeer =
  | { kind: 'start'; profile: string; storageKey: Uint8Array }
  | { kind: 'call'; id: number; method: string; params: unknown }
  | { kind: 'stop' };

export type FromPeer =
  | { kind: 'hello' }
  | { kind: 'ready'; peerId: string }
  | { kind: 'failed'; message: string }
  | { kind: 'reply'; id: number; reply: CallReply }
  | { kind: 'event'; event: string; payload: unknown }
  | { kind: 'stopped' };

const KEY_BYTES = 32;
const MAX_TEXT = 4096;

function record(m: unknown): Record<string, unknown> | null {
  return typeof m === 'object' && m !== null && !Array.isArray(m) ? (m as Record<string, unknown>) : null;
}

const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_TEXT;

function parseReply(v: unknown): CallReply | null {
  const r = record(v);
  if (!r) return null;
  if (r.ok === true) return { ok: true, result: r.result };
  if (r.ok === false && Number.isInteger(r.code) && typeof r.message === 'string') return { ok: false, code: r.code as number, message: r.message.slice(0, MAX_TEXT) };
  return null;
}

/** What main accepts from the peer process; null for anything else. */
export function parseFromPeer(message: unknown): FromPeer | null {
  const m = record(message);
  switch (m?.kind) {
    case 'hello':
    case 'stopped':
      return { kind: m.kind };
    case 'ready':
      return isText(m.peerId) ? { kind: 'ready', peerId: m.peerId } : null;
    case 'failed':
      return typeof m.message === 'string' ? { kind: 'failed', message: m.message.slice(0, MAX_TEXT) || 'the peer did not start' } : null;
    case 'reply': {
      const reply = parseReply(m.reply);
      return isId(m.id) && reply ? { kind: 'reply', id: m.id, reply } : null;
    }
    case 'event':
      return isText(m.event) ? { kind: 'event', event: m.event, payload: m.payload } : null;
    default:
      return null;
  }
}

/** What the peer process accepts from main; null for anything else. */
export function parseToPeer(message: unknown): ToPeer | null {
  const m = record(message);
  switch (m?.kind) {
    case 'start':
      return isText(m.profile) && m.storageKey instanceof Uint8Array && m.storageKey.length === KEY_BYTES ? { kind: 'start', profile: m.profile, storageKey: m.storageKey } : null;
    case 'call':
      return isId(m.id) && isText(m.method) ? { kind: 'call', id: m.id, method: m.method, params: m.params } : null;
    case 'stop':
      return { kind: 'stop' };
    default:
      return null;
  }
}
