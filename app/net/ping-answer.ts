/**
 * @module net/ping-answer
 * Answers libp2p pings (`/ipfs/ping/1.0.0`: 32 bytes, echoed, as many as a stream brings) in
 * place of @libp2p/ping's service, and remembers when each connection last brought a ping
 * (`answeredAt`; the echo is written right after). peer/reachability uses that: a connection whose far side
 * is pinging it needs no liveness ping from this side too, so each connection is pinged from
 * one end instead of both (docs/performance.md "Round ten").
 *
 * Invariants:
 * - At most MAX_INBOUND_PING_STREAMS ping streams per connection at once (the registrar
 *   refuses more), each closed after PING_STREAM_IDLE_MS without a ping: a peer cannot hold
 *   more than a few idle streams open for long.
 * - Only a whole 32-byte ping is remembered; a stream that fails is aborted.
 * - Answering remembers a time only: nothing a peer sends here changes any other state.
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
    try {
      for (;;) {
        const signal = AbortSignal.timeout(PING_STREAM_IDLE_MS);
        const ping = await bytes.read({ bytes: PING_BYTES, signal });
        this.answered.set(connection, Date.now());
        await bytes.write(ping, { signal });
      }
    } catch (err) {
      // The asker closed the stream, went idle past PING_STREAM_IDLE_MS, or the path failed.
      stream.abort(err instanceof Error ? err : new Error('ping stream failed'));
    }
  }
}

export function pingAnswer(): (components: { registrar: Registrar }) => PingAnswer {
  return (components) => new PingAnswer(components);
}
