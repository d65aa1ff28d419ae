/**
 * Computes the known-answer vectors of test/vectors/fractional.json (written by
 * scripts/gen-fractional-vectors.ts, checked by test/vectors/fractional.test.ts).
 *
 * Two parts. `arithmetic`: the formulas of 004 §II.B, §III, §IV and §V on fixed
 * scalars (n = 4), independent of the wire. `session`: a full panel on the
 * in-memory harness with fixed identities, seeded RNGs, FIFO delivery and a
 * fixed clock — initialization, one round, one recovery, the round after it —
 * summarized per step by a SHA-256 over every datagram, the first datagram
 * whole (sealed and opened), and the keys.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { CryptoProvider } from '../../../app/core/crypto-provider.js';
import { nobleCrypto } from '../../../app/crypto/noble.js';
import type { Scalar } from '../../../app/fractional/arithmetic.js';
import {
  closeRing,
  commit,
  deriveSharedKey,
  encodePoint,
  encodeScalar,
  GROUP_ORDER,
  hideFraction,
  nextBinding,
  nextPad,
  padFromBinding,
  recoverPad,
  remove,
  ringStep,
  sumScalars,
} from '../../../app/fractional/arithmetic.js';
import { ascii, concatBytes, fromHex, toHex, u32 } from '../../../app/fractional/bytes.js';
import type { Sent } from './harness.js';
import { identities, initialized, PanelNet } from './harness.js';

const hexScalar = (s: Scalar) => toHex(encodeScalar(s));
const hexPoint = (s: Scalar) => toHex(encodePoint(commit(s)));

/** A fixed scalar: SHA-256 of a label, as a little-endian integer, reduced mod ℓ. */
function labelScalar(label: string): Scalar {
  const h = sha256(ascii(label));
  let n = 0n;
  for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(h[i]!);
  return n % GROUP_ORDER;
}

const VECTOR_EPOCH = '0123456789abcdef0123456789abcdef';

function arithmeticVectors() {
  const n = 4;
  const gamma = labelScalar('fractional/gamma');
  const ringSecrets = [0, 1, 2, 3].map((i) => labelScalar(`fractional/v/${i}`));
  const fractions = [0, 1, 2, 3].map((i) => labelScalar(`fractional/fk/${i}`));
  const ring: Scalar[] = [];
  let running = gamma;
  for (const v of ringSecrets) ring.push((running = ringStep(running, v)));
  const theta1 = closeRing(running, gamma);
  const pads1 = ringSecrets.map((v) => padFromBinding(theta1, v));
  const hidden = pads1.map((a, i) => hideFraction(a, fractions[i]!));
  const theta2 = nextBinding(theta1, hidden);
  const pads2 = fractions.map((f) => nextPad(theta2, f));
  // Recovery of member 2's pad by members 0, 1, 3 (ring secrets u, binding ξ).
  const failed = 2;
  const u = [0, 1, 3].map((i) => labelScalar(`fractional/u/${i}`));
  const xi = sumScalars(u);
  const masked = [0, 1, 3].map((i, k) => hideFraction(pads2[i]!, remove(xi, u[k]!)));
  return {
    n,
    lambda: hexScalar(GROUP_ORDER + 1n - BigInt(n)),
    initialization: {
      gamma: hexScalar(gamma),
      ringSecrets: ringSecrets.map(hexScalar),
      ring: ring.map(hexScalar),
      theta1: hexScalar(theta1),
      pads: pads1.map(hexScalar),
      padCommitments: pads1.map(hexPoint),
    },
    round: {
      iteration: 2,
      epoch: VECTOR_EPOCH,
      fractions: fractions.map(hexScalar),
      commitments: fractions.map(hexPoint),
      hidden: hidden.map(hexScalar),
      theta2: hexScalar(theta2),
      pads: pads2.map(hexScalar),
      sharedKey: toHex(deriveSharedKey(nobleCrypto, theta2, fromHex(VECTOR_EPOCH)!, 2)),
    },
    recovery: {
      failed,
      ringSecrets: u.map(hexScalar),
      xi: hexScalar(xi),
      masked: masked.map(hexScalar),
      recoveredPad: hexScalar(recoverPad(theta2, n, xi, masked)),
    },
  };
}

function step(net: PanelNet, from: number) {
  const sent = net.sent.slice(from);
  const transcript = sha256(concatBytes(...sent.map((m: Sent) => concatBytes(fromHex(m.from)!, fromHex(m.to)!, u32(m.bytes.length), m.bytes))));
  return {
    datagrams: sent.length,
    transcriptSha256: toHex(transcript),
    first: { from: sent[0]!.from, to: sent[0]!.to, sealed: toHex(sent[0]!.bytes), record: toHex(net.plaintext(sent[0]!)) },
  };
}

export function sessionVectors(crypto: CryptoProvider = nobleCrypto) {
  const ids = identities(4, 'vector');
  const [newcomer] = identities(1, 'vector-newcomer');
  const net = new PanelNet(ids, { label: 'vector', crypto });
  const key = (k: string, round: number) => toHex(net.eventsOf(k, 'round-complete').find((e) => e.round === round)!.key);

  initialized(net);
  const initialization = step(net, 0);

  let mark = net.sent.length;
  net.session(ids[0]!.key).startRound(net.now);
  net.run();
  const round = { iteration: 2, ...step(net, mark), sharedKey: key(ids[0]!.key, 2) };

  mark = net.sent.length;
  const failed = ids[2]!.key;
  net.down.add(failed);
  const panel = ids.map((i) => (i.key === failed ? newcomer!.key : i.key));
  net.add(newcomer!, panel, { label: 'vector' });
  net.session(newcomer!.key).startRecovery(failed, newcomer!.key, net.now);
  for (const k of panel.filter((k) => k !== newcomer!.key)) net.session(k).startRecovery(failed, newcomer!.key, net.now);
  net.run();
  const recovery = { iteration: 3, failed, replacement: newcomer!.key, ...step(net, mark) };

  mark = net.sent.length;
  net.session(newcomer!.key).startRound(net.now);
  net.run();
  const after = { iteration: 4, ...step(net, mark), sharedKey: key(newcomer!.key, 4) };

  return { members: ids.map((i) => i.key), seeds: 'sha256("vector/<i>")', now: net.now, initialization, round, recovery, roundAfterRecovery: after };
}

export function computeVectors() {
  return {
    about:
      'Known answers for app/fractional (seed 004). Regenerate with `node --import tsx scripts/gen-fractional-vectors.ts` only when the protocol changes on purpose. Scalars and points are 32-byte little-endian / ristretto255 encodings in hex.',
    arithmetic: arithmeticVectors(),
    session: sessionVectors(),
  };
}
