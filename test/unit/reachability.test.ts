// peer/reachability's pure helper: which relay a relayed address goes through.
import '../../app/net/shim.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relayOf } from '../../app/peer/reachability.js';

const RELAY = '/ip4/198.51.100.2/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
const PEER = '12D3KooWSfAfFFyHr98LoRmZ5GeYh6CpoPMC3CZKBJy6Vznc5ntM';

test('relayOf: the relay part of a relayed address, null for any other', () => {
  assert.equal(relayOf(`${RELAY}/p2p-circuit/p2p/${PEER}`), RELAY);
  assert.equal(relayOf(`${RELAY}/p2p-circuit`), RELAY);
  assert.equal(relayOf(`/ip4/198.51.100.11/tcp/1/p2p/${PEER}`), null);
  assert.equal(relayOf('/p2p-circuit/p2p/x'), null, 'no relay address before the circuit');
  assert.equal(relayOf('/ip4/198.51.100.2/tcp/4001/p2p-circuit'), null, 'a relay must be named by its peer ID');
});
