// Types of scripts/start.mjs for its unit test (test/unit/start.test.ts).
export type ElectronCheck = { ok: true; binary: string } | { ok: false; reason: string };
export interface ElectronProbes {
  resolvePackage?: () => string;
  exists?: (path: string) => boolean;
  readFile?: (path: string) => string;
  env?: Record<string, string | undefined>;
  platform?: string;
}
export function electronCheck(probes?: ElectronProbes): ElectronCheck;
export function startPlan(
  check: ElectronCheck,
  args: string[],
  env?: Record<string, string | undefined>,
): { notice: string | null; commands: { cmd: string; args: string[] }[] };
