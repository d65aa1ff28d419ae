// Review 33, fourth pass, on the reveal relay (`answerLateReveal`). As first committed it answered
// any current panel member: a replacement recruited after round 2 asked for round 2's reveals and,
// with the current θ from its handover, computed θ₂ and the key made before it joined. Secure: only
// a member of that round is answered. Also checked: each answerer answers one member once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nobleCrypto } from '../../../app/crypto/noble.js';
import { decodeScalar, type Scalar } from '../../../app/fractional/arithmetic.js';
import { fromHex } from '../../../app/fractional/bytes.js';
import { decodeSigned, encodeSigned, seal, sealTarget, type PanelMessage } from '../../../app/fractional/wire.js';
import type { Identity } from '../fractional/harness.js';
import { identities, initialized, PanelNet, seededRng } from '../fractional/harness.js';

const sc = (hex: string): Scalar => decodeScalar(fromHex(hex)!)!;

function replace(net: PanelNet, failed: string, newcomer: Identity): void {
  const panel = net.session(net.live().find((k) => k !== failed)!).panel.map((k) => (k === failed ? newcomer.key : k));
  net.add(newcomer, panel, { label: 'net' });
  net.session(newcomer.key).startRecovery(failed, newcomer.key, net.now);
  for (const k of panel.filter((k) => k !== newcomer.key)) { net.session(k).startRecovery(failed, newcomer.key, net.now); net.run(); }
}

function lateReveal(net: PanelNet, from: Identity, to: string, epoch: Uint8Array, iteration: number): Uint8Array {
  const m: PanelMessage = { mode: 'G', epoch, iteration, timestamp: net.now, sender: from.key, recipient: to, body: { kind: 'reveal', hfk: 1n, commitDigest: new Uint8Array(32) } as never };
  return seal(nobleCrypto, seededRng('x' + net.sent.length), sealTarget(nobleCrypto, to)!, encodeSigned(nobleCrypto, from.seed, m));
}

function setup() {
  const ids = identities(5, 'r33d');
  const net = initialized(new PanelNet(ids, { processTimeoutMs: 10_000 }));
  const before = net.session(ids[0]!.key).snapshot();
  net.session(ids[0]!.key).startRound(net.now);
  net.run();
  const after = net.session(ids[0]!.key).snapshot();
  assert.equal(after.nextIteration, 3);
  return { ids, net, before, after, epoch: fromHex(after.epoch)! };
}

function evidenceTo(net: PanelNet, start: number, to: string) {
  return net.sent.slice(start).filter((s) => s.to === to && net.decode(s).body.kind === 'evidence');
}

test('a replacement recruited after round 2 asks for round 2 reveals: gets none (else θ_2 / SK_1)', () => {
  const { ids, net, before, after, epoch } = setup();
  const [newcomer] = identities(1, 'r33d-new');
  replace(net, ids[2]!.key, newcomer!);
  assert.equal(net.eventsOf(ids[0]!.key, 'recovered').length, 1);
  const start = net.sent.length;
  for (const k of [ids[0]!, ids[1]!, ids[3]!, ids[4]!]) { net.session(k.key).receive(newcomer!.key, lateReveal(net, newcomer!, k.key, epoch, 2), net.now); net.collect(k.key); }
  const ev = evidenceTo(net, start, newcomer!.key);
  // what the newcomer could derive: θ_old = (ΣHFK − θ_new)/(n−1)
  const hfks = new Map<string, Scalar>();
  for (const s of ev) { const r = decodeSigned(nobleCrypto, (net.decode(s).body as { record: Uint8Array }).record); if (r.ok && r.value.body.kind === 'reveal') hfks.set(r.value.sender, (r.value.body as { hfk: Scalar }).hfk); }
  let leaked = false;
  if (hfks.size === 5) {
    const n = 5n, l = 2n ** 252n + 27742317777372353535851937790883648493n;
    const sum = [...hfks.values()].reduce((a: bigint, b) => (a + BigInt(b as unknown as bigint)) % l, 0n);
    const inv = (a: bigint) => { let r = 1n, b = a % l, e = l - 2n; while (e) { if (e & 1n) r = (r * b) % l; b = (b * b) % l; e >>= 1n; } return r; };
    const thetaOld = (((sum - BigInt(sc(after.theta) as unknown as bigint)) % l + l) % l * inv(n - 1n)) % l;
    leaked = thetaOld === BigInt(sc(before.theta) as unknown as bigint);
  }
  assert.equal(ev.length, 0, `newcomer got ${ev.length} evidence records (${hfks.size} distinct HFKs); previous θ recovered: ${leaked}`);
});

test('amplification: one round-2 member re-sends its reveal; each answerer answers once (n−2 records), not again', () => {
  const { ids, net, epoch } = setup();
  const start = net.sent.length;
  for (let i = 0; i < 3; i++) { net.session(ids[0]!.key).receive(ids[1]!.key, lateReveal(net, ids[1]!, ids[0]!.key, epoch, 2), net.now); net.collect(ids[0]!.key); }
  const ev = evidenceTo(net, start, ids[1]!.key);
  assert.equal(ev.length, 4, `evidence out: ${ev.length}`); // records of 0,2,3,4
  const rej = net.eventsOf(ids[0]!.key, 'rejected');
  assert.ok(rej.length >= 3);
});
