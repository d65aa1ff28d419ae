/**
 * @module net/ping-answer
 * Answers libp2p pings (`/ipfs/ping/1.0.0`: 32 bytes, echoed, as many as a stream brings) in
 * place of @libp2p/ping's service, and remembers when each connection last brought a ping
 * (`answeredAt`; the echo is written right after, and its arrival is not checked here). peer/reachability uses that: a connection whose far side
 * is pinging it needs no liveness ping from this side too, so each connection is pinged from
 * one end instead of both (docs/performance.md "Round ten").
 *
 * Invariants:
 * - At most MAX_INBOUND_PING_STREAMS ping streams per connection at once (the registrar
 *   refuses more), each closed after PING_STREAM_IDLE_MS without a ping, and aborted if it
 *   brings more than MAX_PINGS_PER_WINDOW pings in PING_RATE_WINDOW_MS: a peer cannot hold
 *   more than a few idle streams open for long, nor make us echo at its own pace.
 * - Only a whole 32-byte ping is remembered; a stream that fails is aborted.
 * - Answering remembers a time only. That time makes peer/reachability skip its own liveness
 *   ping on the connection (and clear its strikes): the far side is checking the path. That
 *   trusts the far side to drop a connection whose pings go unanswered, as Conclave peers do;
 *   a peer that pings and never drops would hide a path dead in our direction only.
 */
import type { Connection, Stream, StreamHandler } from '@libp2p/interface';
import { byteStream } from 'it-byte-stream';

export const PING_PROTOCOL = '/ipfs/ping/1.0.0';
const PING_BYTES = 32;

/**
 * How long a ping stream may stay open without a ping before the answering side closes it:
 * three liveness intervals (peer/reachability keeps one ping stream per connection and pings
 * on it every 10 s at most; a new stream per ping cost an idle fifty-member peer about as
 * much CPU as everything else it did).
 */
export const PING_STREAM_IDLE_MS = 30_000;
/**
 * At most this many pings on one stream within PING_RATE_WINDOW_MS, or the stream is aborted:
 * an honest asker sends one per liveness interval on its kept stream, and one per probe stream.
 */
const MAX_PINGS_PER_WINDOW = 5;
const PING_RATE_WINDOW_MS = 10_000;
/** Two pings may run at once on a connection from each end: reachability's liveness ping and its probe of an older connection. */
export const MAX_INBOUND_PING_STREAMS = 4;
export const MAX_OUTBOUND_PING_STREAMS = 2;

interface Registrar {
  handle(protocol: string, handler: StreamHandler, options: { maxInboundStreams: number; maxOutboundStreams: number; runOnLimitedConnection: boolean }): Promise<void>;
  unhandle(protocol: string): Promise<void>;
}

export class PingAnswer {
  private readonly answered = new WeakMap<Connection, number>();
  private started = false;

  constructor(private readonly components: { registrar: Registrar }) {}

  readonly [Symbol.toStringTag] = 'conclave/ping-answer';

  async start(): Promise<void> {
    await this.components.registrar.handle(PING_PROTOCOL, ({ stream, connection }) => void this.answer(stream, connection), {
      maxInboundStreams: MAX_INBOUND_PING_STREAMS,
      maxOutboundStreams: MAX_OUTBOUND_PING_STREAMS,
      runOnLimitedConnection: true,
    });
    this.started = true;
  }

  async stop(): Promise<void> {
    if (this.started) await this.components.registrar.unhandle(PING_PROTOCOL);
    this.started = false;
  }

  /** When a ping last came in on this connection (Date.now()), if ever. */
  answeredAt(conn: Connection): number | undefined {
    return this.answered.get(conn);
  }

  private async answer(stream: Stream, connection: Connection): Promise<void> {
    const bytes = byteStream(stream);
    // One idle timer per stream, restarted at each ping (not a timer per ping: a peer pinging
    // fast would otherwise leave thousands of 30 s timers behind it).
    const idle = new AbortController();
    let timer = setTimeout(() => idle.abort(new Error('ping stream idle')), PING_STREAM_IDLE_MS);
    let windowStart = Date.now();
    let inWindow = 0;
    try {
      for (;;) {
        const ping = await bytes.read({ bytes: PING_BYTES, signal: idle.signal });
        const now = Date.now();
        if (now - windowStart >= PING_RATE_WINDOW_MS) {
          windowStart = now;
          inWindow = 0;
        }
        if (++inWindow > MAX_PINGS_PER_WINDOW) throw new Error('pings too fast');
        this.answered.set(connection, now);
        clearTimeout(timer);
        timer = setTimeout(() => idle.abort(new Error('ping stream idle')), PING_STREAM_IDLE_MS);
        await bytes.write(ping, { signal: idle.signal });
      }
    } catch (err) {
      // The asker closed the stream (closed here too), went idle past PING_STREAM_IDLE_MS, pinged
      // too fast, or the path failed (aborted).
      if (err instanceof Error && err.name === 'UnexpectedEOFError') void stream.close().catch(() => stream.abort(err));
      else stream.abort(err instanceof Error ? err : new Error('ping stream failed'));
    } finally {
      clearTimeout(timer);
    }
  }
}

export function pingAnswer(): (components: { registrar: Registrar }) => PingAnswer {
  return (components) => new PingAnswer(components);
}
