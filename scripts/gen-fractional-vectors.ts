// Writes test/vectors/fractional.json: the known answers of the fractional-key
// panel (seed 004). Usage: node --import tsx scripts/gen-fractional-vectors.ts
// The values come from test/unit/fractional/vector-driver.ts (fixed scalars for
// the arithmetic; fixed identities, seeded RNGs and a fixed clock for the
// session). test/vectors/fractional.test.ts recomputes them and compares.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { computeVectors } from '../test/unit/fractional/vector-driver.js';

const target = fileURLToPath(new URL('../test/vectors/fractional.json', import.meta.url));
writeFileSync(target, JSON.stringify(computeVectors(), null, 2) + '\n');
console.log(`wrote ${target}`);
