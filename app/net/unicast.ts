/**
 * @module net/unicast
 * Length-prefixed request/response streams for the `/conclave/...` protocols
 * (admission, TEK fetch, merge and fractional-key messages ride on
 * `/conclave/group/1.0.0`; catch-up and peer exchange have their own IDs).
 *
 * Invariants:
 * - Every frame is bounded (`maxFrameBytes`) and every stream bounded in frame
 *   count and time; a peer that exceeds a bound gets its stream aborted, and
 *   nothing it sent reaches the caller.
 * - The remote peer handed to a handler is the Noise-authenticated one
 *   (`connection.remotePeer`), never a claim inside the bytes.
 * - Handlers never throw out: an exception closes the stream and is logged
 *   without payload bytes.
 * - A node's stream gate (`setStreamGate`), if any, sees every inbound stream of
 *   every protocol served here before a byte is read; a stream it refuses is
 *   aborted at once (issue 15 §1: blocked peers, rate limits for non-members).
 */
import * as lp from 'it-length-prefixed';
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import type { Uint8ArrayList } from 'uint8arraylist';
import type { ConclaveLibp2p } from './node.js';

export const PROTOCOL_GROUP = '/conclave/group/1.0.0';
export const PROTOCOL_CATCHUP = '/conclave/catchup/1.0.0';
export const PROTOCOL_PEERS = '/conclave/peers/1.0.0';

export interface StreamLimits {
  maxFrameBytes: number;
  maxFrames: number;
  timeoutMs: number;
  /** All frames together at most (absent: maxFrames × maxFrameBytes). */
  maxTotalBytes?: number;
}

export const GROUP_LIMITS: StreamLimits = { maxFrameBytes: 1024 * 1024, maxFrames: 1, timeoutMs: 10_000 };
export const CATCHUP_REQUEST_LIMITS: StreamLimits = { maxFrameBytes: 4096, maxFrames: 1, timeoutMs: 10_000 };
export const CATCHUP_RESPONSE_LIMITS: StreamLimits = { maxFrameBytes: 1024 * 1024 + 64, maxFrames: 5000, timeoutMs: 30_000 };
export const PEERS_LIMITS: StreamLimits = { maxFrameBytes: 64 * 1024, maxFrames: 1, timeoutMs: 10_000 };

export class StreamLimitError extends Error {
  override readonly name = 'StreamLimitError';
}

function toBytes(chunk: Uint8ArrayList | Uint8Array): Uint8Array {
  return chunk instanceof Uint8Array ? chunk : chunk.subarray();
}

async function readFrames(stream: Stream, limits: StreamLimits): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  let total = 0;
  const timer = setTimeout(() => stream.abort(new StreamLimitError('stream timed out')), limits.timeoutMs);
  try {
    for await (const chunk of lp.decode(stream.source, { maxDataLength: limits.maxFrameBytes })) {
      const frame = toBytes(chunk);
      frames.push(frame);
      total += frame.length;
      const over = frames.length > limits.maxFrames ? 'too many frames' : limits.maxTotalBytes !== undefined && total > limits.maxTotalBytes ? 'too many bytes' : null;
      if (over) {
        stream.abort(new StreamLimitError(over));
        throw new StreamLimitError(over);
      }
    }
  } finally {
    clearTimeout(timer);
  }
  return frames;
}

/**
 * A stream to `peer` on an open connection if there is one (an unlimited one
 * first), else on a new connection. libp2p's own `dialProtocol` dials again
 * when the only connection is limited (a member relay's, issue 16 §5): every
 * unicast would open another relayed connection.
 */
async function openStream(node: ConclaveLibp2p, peer: PeerId, protocol: string, signal: AbortSignal): Promise<Stream> {
  const open = node.getConnections(peer).filter((c) => c.status === 'open');
  const conn = open.find((c) => c.limits == null) ?? open[0];
  if (conn) return conn.newStream(protocol, { signal, runOnLimitedConnection: true });
  return node.dialProtocol(peer, protocol, { signal, runOnLimitedConnection: true });
}

/** Send frames one way (no response). Resolves false when the peer could not be reached. */
export async function sendFrames(node: ConclaveLibp2p, peer: PeerId, protocol: string, frames: Uint8Array[], limits: StreamLimits): Promise<boolean> {
  let stream: Stream | undefined;
  try {
    stream = await openStream(node, peer, protocol, AbortSignal.timeout(limits.timeoutMs));
    await stream.sink(lp.encode(frames));
    await stream.close({ signal: AbortSignal.timeout(limits.timeoutMs) });
    return true;
  } catch {
    stream?.abort(new Error('send failed'));
    return false;
  }
}

/** Send one request frame and read the response frames. Null when unreachable or a limit was hit. */
export async function request(node: ConclaveLibp2p, peer: PeerId, protocol: string, frame: Uint8Array, responseLimits: StreamLimits): Promise<Uint8Array[] | null> {
  let stream: Stream | undefined;
  try {
    stream = await openStream(node, peer, protocol, AbortSignal.timeout(responseLimits.timeoutMs));
    await stream.sink(lp.encode([frame]));
    return await readFrames(stream, responseLimits);
  } catch {
    stream?.abort(new Error('request failed'));
    return null;
  }
}

/** Decides, before reading, whether an inbound stream is served at all. */
export type StreamGate = (remote: PeerId, address: string, protocol: string) => boolean;

const gates = new WeakMap<ConclaveLibp2p, StreamGate>();

/** Installs the gate every `serve`d protocol of `node` consults (one per node; the last one set wins). */
export function setStreamGate(node: ConclaveLibp2p, gate: StreamGate): void {
  gates.set(node, gate);
}

/**
 * What a rate limit per remote address keys on: the first component of a direct
 * connection's address (`ip4/…`, `ip6/…`, `dns…/…`); a relayed connection has no
 * address of its own that we see, so it is keyed by its peer.
 */
export function addressKey(connection: Pick<Connection, 'remoteAddr' | 'remotePeer'>): string {
  const components = connection.remoteAddr.getComponents();
  if (components.some((c) => c.name === 'p2p-circuit')) return `circuit/${connection.remotePeer.toString()}`;
  const first = components[0];
  return first ? `${first.name}/${first.value ?? ''}` : `peer/${connection.remotePeer.toString()}`;
}

export type FrameHandler = (remote: PeerId, frames: Uint8Array[]) => Promise<Uint8Array[] | undefined> | Uint8Array[] | undefined;

/** Serve a protocol: read the request frames (bounded), answer with the handler's frames if any. */
export async function serve(node: ConclaveLibp2p, protocol: string, requestLimits: StreamLimits, handler: FrameHandler): Promise<void> {
  await node.handle(
    protocol,
    ({ stream, connection }) => {
      const gate = gates.get(node);
      let admitted = true;
      try {
        admitted = !gate || gate(connection.remotePeer, addressKey(connection), protocol);
      } catch {
        admitted = false;
      }
      if (!admitted) {
        stream.abort(new StreamLimitError('refused'));
        return;
      }
      void (async () => {
        try {
          const frames = await readFrames(stream, requestLimits);
          const response = await handler(connection.remotePeer, frames);
          if (response && response.length > 0) await stream.sink(lp.encode(response));
          await stream.close({ signal: AbortSignal.timeout(requestLimits.timeoutMs) });
        } catch {
          stream.abort(new Error('handler failed'));
        }
      })();
    },
    { maxInboundStreams: 256, runOnLimitedConnection: true },
  );
}
