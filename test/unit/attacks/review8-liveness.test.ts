// Review 8: liveness pings skipped on a connection that carried gossip (peer/reachability,
// `carriedGossip`). A skipped check put the next one a whole interval later, so a path that
// died just after its last gossip was first pinged up to two intervals (20 s) after it went
// silent, not one: the dead path was dropped up to 70 s after the cut (three silent pings
// from there), past the 60 s of test/integration/partition.test.ts's cut, where before the
// skip it was at most 60 s. A stale path must be pinged once its gossip is an interval old.
import '../../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { Reachability } from '../../../app/peer/reachability.js';
import type { PeerContext } from '../../../app/peer/peer-context.js';

/** A Reachability over one fake connection whose pings never answer; `pings` counts them. */
async function oneSilentConnection(answeredAt: (c: unknown) => number | undefined = () => undefined) {
  const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'));
  const counter = { pings: 0 };
  const conn = {
    remotePeer: peer,
    status: 'open',
    remoteAddr: { toString: () => '/ip4/192.0.2.1/tcp/4001' },
    newStream: () => {
      counter.pings++;
      return Promise.reject(new Error('no answer'));
    },
  };
  let onGossip: (evt: { detail: { propagationSource: typeof peer } }) => void = () => {};
  const node = {
    services: { pubsub: { addEventListener: (_: string, fn: typeof onGossip) => (onGossip = fn) }, ping: { answeredAt } },
    addEventListener: () => {},
    getConnections: () => [conn],
  };
  const ctx = { node, groups: new Map(), selfPeerId: 'self', stopped: () => false, log: () => {} } as unknown as PeerContext;
  const reach = new Reachability(ctx, [], () => {});
  reach.listen();
  const check = (reach as unknown as { checkLiveness(): void }).checkLiveness.bind(reach);
  return { peer, conn, counter, check, gossip: () => onGossip({ detail: { propagationSource: peer } }) };
}

test('a connection whose last gossip is one liveness interval old is pinged at the next tick', async () => {
  const { counter, check, gossip } = await oneSilentConnection();
  const realNow = Date.now;
  let t = 1_000_000;
  Date.now = () => t;
  try {
    check(); // the connection is first seen: its first check is an interval later
    t += 500;
    gossip(); // the last gossip; the path dies just after
    for (let s = 1; s <= 11; s++) {
      t = 1_000_000 + s * 1000;
      check();
    }
  } finally {
    Date.now = realNow;
  }
  assert.ok(counter.pings >= 1, `silent for 10.5 s of the 10 s interval, pinged by the tick after: ${counter.pings} pings`);
});

test('a connection the far side pinged within the interval is not pinged from this side; once its pings stop, it is', async () => {
  let farSidePingedAt: number | undefined;
  const { conn, counter, check } = await oneSilentConnection((c) => (c === conn ? farSidePingedAt : undefined));
  const realNow = Date.now;
  let t = 2_000_000;
  Date.now = () => t;
  try {
    check(); // first seen: due an interval later
    // The far side pings every 10 s, a little before this side's check would fall due.
    for (let s = 1; s <= 60; s++) {
      t = 2_000_000 + s * 1000;
      if (s % 10 === 9) farSidePingedAt = t;
      check();
    }
    assert.equal(counter.pings, 0, 'the far side pings this connection: this side does not');
    // The far side's pings stop (the path died): this side pings within an interval and a tick.
    for (let s = 61; s <= 71; s++) {
      t = 2_000_000 + s * 1000;
      check();
    }
  } finally {
    Date.now = realNow;
  }
  assert.ok(counter.pings >= 1, `the far side silent for ${71 - 59} s: ${counter.pings} pings from this side`);
});
