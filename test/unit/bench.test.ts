// The benchmark's reference schemes and renderer (bench/): correctness only.
// Speed is measured by `npm run bench`, never asserted here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nobleCrypto, systemRng } from '../../app/crypto/noble.js';
import { LkhServer, receiveRekey } from '../../bench/schemes/lkh.js';
import { PairwiseMember, channelKey, openGroupKey } from '../../bench/schemes/pairwise.js';
import { blankParents, buildMlsGroup, fillCommitters } from '../../bench/schemes/mls.js';
import { escapeXml, formatTick, renderChart } from '../../bench/svg.js';
import { median, percentile } from '../../bench/measure.js';
import { renderCharts, renderMarkdown } from '../../bench/report.js';
import type { BenchResults } from '../../bench/types.js';
import { measureLargeLeave } from '../../bench/schemes/conclave-large.js';
import { LATENCY_MS } from '../../bench/schemes/conclave.js';

const crypto = nobleCrypto;
const rng = systemRng;
const same = (a: Uint8Array | undefined, b: Uint8Array | undefined) => a !== undefined && b !== undefined && Buffer.from(a).equals(Buffer.from(b));

test('lkh leave: every remaining member learns the new group key; the leaver cannot', () => {
  for (const n of [2, 5, 8, 13]) {
    const server = new LkhServer(crypto, rng, n);
    const before = Array.from({ length: n }, (_, i) => server.memberKeys(i));
    const leaver = n - 1;
    const message = server.leave(leaver);
    for (let i = 0; i < n - 1; i++) {
      const keys = receiveRekey(crypto, server.publicKey, before[i] as Map<number, Uint8Array>, message);
      assert.ok(keys, `member ${i} of ${n} rejected the rekey`);
      assert.ok(same(keys.get(1), server.groupKey()), `member ${i} of ${n} did not get the new group key`);
    }
    // The leaver's stale keys either fail to open a wrap (null) or open nothing new.
    const leaverView = receiveRekey(crypto, server.publicKey, before[leaver] as Map<number, Uint8Array>, message);
    const learned = [...(leaverView?.values() ?? [])];
    assert.ok(!learned.some((k) => same(k, server.groupKey())), `the leaver of ${n} learned the new group key`);
    for (let i = 0; i < n - 1; i++) {
      for (const k of server.memberKeys(i).values()) assert.ok(!learned.some((l) => same(l, k)), `the leaver of ${n} learned a key member ${i} now holds`);
    }
  }
});

test('lkh join: existing members and the joiner agree on the new group key; the old key is replaced', () => {
  const n = 12;
  const server = new LkhServer(crypto, rng, n, n + 1, 6);
  const before = Array.from({ length: 13 }, (_, i) => (i === 6 ? null : server.memberKeys(i)));
  const oldGroup = server.groupKey();
  const { slot, multicast, unicast, joinerKey } = server.join();
  assert.equal(slot, 6);
  assert.ok(!same(oldGroup, server.groupKey()));
  for (const held of before) {
    if (!held || held.size === 0) continue;
    const keys = receiveRekey(crypto, server.publicKey, held, multicast);
    assert.ok(keys && same(keys.get(1), server.groupKey()));
  }
  const joiner = receiveRekey(crypto, server.publicKey, new Map([[server.leaf(slot), joinerKey]]), unicast);
  assert.ok(joiner && same(joiner.get(1), server.groupKey()));
  // The joiner cannot read the old group key from the multicast (backward secrecy).
  const fromMulticast = receiveRekey(crypto, server.publicKey, new Map([[server.leaf(slot), joinerKey]]), multicast);
  assert.ok(fromMulticast && !same(fromMulticast.get(1), oldGroup));
});

test('lkh refresh and tampering: all members follow a refresh; a modified message is refused', () => {
  const server = new LkhServer(crypto, rng, 9);
  const held = server.memberKeys(3);
  const message = server.refresh();
  assert.ok(same(receiveRekey(crypto, server.publicKey, held, message)?.get(1), server.groupKey()));
  const bad = Uint8Array.from(message);
  bad[20] = (bad[20] ?? 0) ^ 1;
  assert.equal(receiveRekey(crypto, server.publicKey, held, bad), null);
  assert.equal(receiveRekey(crypto, server.publicKey, held, message.subarray(0, 10)), null);
});

test('pairwise: every recipient opens the new key over its channel; the leaver gets nothing; channels are symmetric', () => {
  const a = rng(32);
  const b = rng(32);
  const ab = channelKey(crypto, a, crypto.x25519PublicKey(b));
  assert.ok(same(ab, channelKey(crypto, b, crypto.x25519PublicKey(a))));
  const n = 7;
  const channels: (Uint8Array | undefined)[] = [undefined, ...Array.from({ length: n - 1 }, () => rng(32))];
  const member = new PairwiseMember(crypto, rng, 0, channels);
  const out = member.leave(3);
  assert.equal(out.length, n - 2);
  const recipients = [1, 2, 4, 5, 6];
  out.forEach((msg, i) => assert.ok(same(openGroupKey(crypto, channels[recipients[i] as number] as Uint8Array, msg) ?? undefined, member.groupKey)));
  for (const msg of out) assert.equal(openGroupKey(crypto, channels[3] as Uint8Array, msg), null);
  const joinerSecret = rng(32);
  const joined = member.join(crypto.x25519PublicKey(joinerSecret));
  const toJoiner = joined[joined.length - 1] as Uint8Array;
  const joinerChannel = channelKey(crypto, joinerSecret, member.publicKey);
  assert.ok(same(openGroupKey(crypto, joinerChannel, toJoiner) ?? undefined, member.groupKey));
});

test('mls fill: the full fill leaves no blank parent; the targeted fill commits O(log n) times', async () => {
  const group = await buildMlsGroup(8, 'full', Date.now() + 60_000);
  assert.ok(!('stoppedAt' in group));
  assert.equal(blankParents(group.alice), 0);
  assert.deepEqual(fillCommitters(8, 'full'), [1, 3, 5, 7]);
  const targeted = fillCommitters(1000, 'targeted');
  assert.ok(targeted.length <= 2 * Math.ceil(Math.log2(1000)) + 1, `${targeted.length} commits`);
  assert.ok(targeted.every((l) => l >= 0 && l < 1000));
});

test('svg: valid document with every finite point, escaped labels, non-positive values left out on log axes', () => {
  const svg = renderChart({
    title: 'a <b> & "c"',
    xLabel: 'N',
    yLabel: 'bytes',
    xLog: true,
    yLog: true,
    reference: { y: 10, label: 'target' },
    series: [
      { name: 's1', points: [{ x: 16, y: 100 }, { x: 64, y: 400 }, { x: 256, y: 1600 }] },
      { name: 's2', points: [{ x: 16, y: 0 }, { x: 64, y: 2 }, { x: 256, y: Number.NaN }] },
    ],
  });
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.ok(svg.includes('a &lt;b&gt; &amp; &quot;c&quot;'));
  assert.ok(!svg.includes('<b>'));
  const points = [...svg.matchAll(/data-series="([^"]+)" data-x="([^"]+)" data-y="([^"]+)"/g)].map((m) => `${m[1]}:${m[2]}:${m[3]}`);
  assert.deepEqual(points.sort(), ['s1:16:100', 's1:256:1600', 's1:64:400', 's2:64:2']);
  assert.ok(svg.includes('not shown: s2 at 16: 0; s2 at 256: no value'));
  // Tags balance (a cheap well-formedness check).
  const opens = (svg.match(/<(?!\/)[a-z]+[^>]*[^/]>/g) ?? []).length;
  const closes = (svg.match(/<\/[a-z]+>/g) ?? []).length;
  assert.equal(opens, closes);
  assert.equal(escapeXml('<&>'), '&lt;&amp;&gt;');
  assert.equal(formatTick(10_000), '10k');
  assert.equal(formatTick(0.01), '0.01');
});

test('measure and report helpers', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95), 10);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50), 5);
  const results: BenchResults = {
    machine: { cpu: 'x', cores: 2, memGiB: 1, os: 'y', node: 'v20', date: 'now', quick: true, tsMls: '1.6.4', gitCommit: 'abc' },
    rekey: [
      { scheme: 'mls', op: 'leave', n: 16, bytes: 1000, bytesToExisting: 1000, messages: 1, initiatorMs: 20, receiverMs: 10, keysPerMember: 6 },
      { scheme: 'conclave', op: 'leave', n: 16, bytes: 500, bytesToExisting: 500, messages: 3, initiatorMs: 0.2, receiverMs: 0.1, keysPerMember: 17 },
    ],
    convergence: [{ n: 16, k: 1, ms: 120 }, { n: 16, k: 4, ms: null }],
    network: null,
    crypto: { encryptPerSec: 1, decryptPerSec: 1 },
    notes: ['a note'],
  };
  const charts = renderCharts(results);
  const md = renderMarkdown(results, charts);
  assert.ok(md.includes('| conclave | 16 | 500 | 500 | 3 | 0.2 | 0.1 | 17 |'));
  assert.ok(md.includes('| leave | 16 | 1/2 | 100× | 100× |'));
  assert.ok(md.includes('did not converge'));
  assert.ok(md.includes('- a note'));
  assert.ok(charts.every((c) => c.svg.startsWith('<svg')));
});

test('conclave sampled leave: the excluder and its planned completers publish, every remaining member can read TEK′, and the figures add up', () => {
  const r = measureLargeLeave(96, 3);
  assert.equal(r.row.messages, 1 + r.completers, 'the excluder and each planned completer publish once');
  assert.ok(r.row.bytes > 0 && r.row.bytes === r.row.bytesToExisting);
  assert.notEqual(r.convergence.ms, null, 'every remaining member is reached');
  assert.ok(r.convergence.ms! >= LATENCY_MS[0] && r.convergence.ms! <= (1 + r.completers) * LATENCY_MS[1], `converged in ${r.convergence.ms} ms`);
});
