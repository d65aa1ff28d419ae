// Fuzz run settings. `npm test` runs every property with a fixed seed and few runs
// (seconds); `npm run fuzz` (scripts/fuzz.mjs) sets FUZZ_SEED to a fresh random seed and
// FUZZ_SCALE to multiply the run counts, and prints the seed of a failing run, which
// `FUZZ_SEED=<seed> FUZZ_SCALE=<n> node --import tsx --test test/fuzz/<file>.test.ts`
// replays (fast-check also prints the seed and the shrunk counterexample's path).

export const FUZZ_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 140_514;
const scale = process.env.FUZZ_SCALE ? Math.max(1, Number(process.env.FUZZ_SCALE)) : 1;

/** fast-check parameters: `quick` runs, times FUZZ_SCALE, from FUZZ_SEED. */
export function runs(quick: number): { seed: number; numRuns: number } {
  return { seed: FUZZ_SEED, numRuns: Math.round(quick * scale) };
}
