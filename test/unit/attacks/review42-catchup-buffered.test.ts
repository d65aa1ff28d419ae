// Review 42 (MEDIUM), item 3: what a catch-up server serves under a key the asker does not hold yet is buffered
// (no refusal at feed time), and when the key comes it is opened outside the feed: a refusal then is put
// on the author the server named, as live input (group.ts noteRefusal: `feedingCatchUp` is false).
// So review 40's attack works again with a delay: an insider M, holding a TEK b does not hold yet (a
// refresh or exclusion table b has not read), serves a "message by A" with a broken signature sealed
// as A's packet; once b reads the table, A reads red as a forger, M nowhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeOfB } from './review29-fixtures.js';
import { PARAMS } from './forge.js';

test('a forgery a catch-up server served under a key not yet held is not put on the named author once it opens', (t) => {
  const f = runtimeOfB({}, { params: { ...PARAMS, refreshVersionMs: 60_000 } });
  t.after(f.done);
  const A = f.g.ids.a!.key;
  const M = f.g.ids.m!.key;
  const v0 = f.rt.engine.tekInfo()!.version;
  const from = f.g.net.log.length;
  f.g.net.run(f.g.net.now + 61_000, 1000); // the group refreshes its TEK; b has not read the table yet
  assert.ok(f.g.e.a!.tekInfo()!.version > v0, 'a refreshed');
  assert.equal(f.rt.engine.tekInfo()!.version, v0, 'b still on the old version');
  // M's catch-up reply: "a message by A" with a broken signature, sealed under the new TEK as A's packet.
  const genuine = f.sign('a', { t: 'chat', text: 'hello', name: 'a' });
  const broken = { ...genuine, sig: (genuine.sig[0] === '0' ? '1' : '0') + genuine.sig.slice(1) };
  f.rt.receive(A, 'data', f.seal('a', { v: 2, t: 'msg', m: broken }), M);
  assert.deepEqual(f.rt.rejections.list(), [], 'buffered: nothing shown yet');
  // b reads the table (live control traffic from the others).
  f.readNetSince(from);
  assert.ok(f.rt.engine.tekInfo()!.version > v0, 'b now holds the new TEK');
  const onA = f.rt.rejections.list().filter((r) => r.from === A && r.expected === undefined);
  assert.deepEqual(onA.map((r) => `${r.reason}: ${r.detail}`), [], 'nothing M served is put on A');
});
