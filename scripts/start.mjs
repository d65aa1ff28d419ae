#!/usr/bin/env node
/**
 * `npm start`: the desktop app where Electron can run, the browser mode where it
 * cannot (issue 18 §5). The README's "run it" command must always end in a
 * working UI, never in a stack trace.
 *
 * Electron "can run" when its package resolves, its binary is on disk (the
 * `electron` package records the binary's path in path.txt after its download;
 * `ELECTRON_OVERRIDE_DIST_PATH` points elsewhere), and, on Linux, a display is
 * set (DISPLAY or WAYLAND_DISPLAY). The check only looks at files and the
 * environment: `require('electron')` itself would try to download the binary
 * and throw when it cannot.
 *
 * When it cannot run, one line says why, and `app/cli/web.ts --open` starts
 * a headless peer serving the same UI, prints its URL and opens it where a
 * browser opener exists. Arguments after `--` go to the browser mode
 * (`npm start -- --profile DIR --port 7420`); the profile defaults to
 * `$CONCLAVE_PROFILE` or `~/.conclave/web`.
 *
 * Invariants: the check is a pure function of the injected probes
 * (`electronCheck`), so the unit test (test/unit/start.test.ts) decides both
 * ways without launching anything.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Whether Electron can run here.
 * @param {{
 *   resolvePackage?: () => string,
 *   exists?: (path: string) => boolean,
 *   readFile?: (path: string) => string,
 *   env?: Record<string, string | undefined>,
 *   platform?: string,
 * }} probes
 * @returns {{ ok: true, binary: string } | { ok: false, reason: string }}
 */
export function electronCheck(probes = {}) {
  const require = createRequire(join(ROOT, 'package.json'));
  const resolvePackage = probes.resolvePackage ?? (() => require.resolve('electron/package.json'));
  const exists = probes.exists ?? existsSync;
  const readFile = probes.readFile ?? ((p) => readFileSync(p, 'utf8'));
  const env = probes.env ?? process.env;
  const platform = probes.platform ?? process.platform;

  let dir;
  try {
    dir = dirname(resolvePackage());
  } catch {
    return { ok: false, reason: 'the electron package is not installed (npm install skipped it)' };
  }
  const pathFile = join(dir, 'path.txt');
  const relative = exists(pathFile) ? readFile(pathFile).trim() : '';
  let binary;
  if (env.ELECTRON_OVERRIDE_DIST_PATH) binary = join(env.ELECTRON_OVERRIDE_DIST_PATH, relative || 'electron');
  else if (relative) binary = join(dir, 'dist', relative);
  else return { ok: false, reason: 'the Electron binary was never downloaded (no network, or ELECTRON_SKIP_BINARY_DOWNLOAD)' };
  if (!exists(binary)) return { ok: false, reason: `the Electron binary is missing (${binary})` };
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return { ok: false, reason: 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
  return { ok: true, binary };
}

/**
 * The commands `npm start` runs, in order, for a check's outcome.
 * @param {ReturnType<typeof electronCheck>} check
 * @param {string[]} args arguments given after `--`
 * @param {Record<string, string | undefined>} env
 * @returns {{ notice: string | null, commands: { cmd: string, args: string[] }[] }}
 */
export function startPlan(check, args, env = process.env) {
  const node = process.execPath;
  const build = [
    { cmd: node, args: [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'] },
    { cmd: node, args: [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'main/tsconfig.json'] },
  ];
  if (check.ok) return { notice: null, commands: [...build, { cmd: check.binary, args: ['dist/main/main/main.js', ...args] }] };
  const hasProfile = args.some((a) => a === '--profile' || a.startsWith('--profile='));
  const profile = env.CONCLAVE_PROFILE || join(homedir(), '.conclave', 'web');
  return {
    notice: `Electron cannot run here: ${check.reason}. Starting the browser mode instead.`,
    commands: [{ cmd: node, args: ['--import', 'tsx', 'app/cli/web.ts', '--open', ...(hasProfile ? [] : ['--profile', profile]), ...args] }],
  };
}

/** Runs the commands one after another; resolves with the first non-zero exit code (or 0). */
function runAll(commands) {
  return commands.reduce(
    (prev, { cmd, args }) =>
      prev.then((code) => {
        if (code !== 0) return code;
        return new Promise((done) => {
          const child = spawn(cmd, args, { cwd: ROOT, stdio: 'inherit' });
          const forward = (sig) => child.kill(sig);
          process.on('SIGINT', forward).on('SIGTERM', forward);
          child.on('error', (err) => {
            console.error(`could not run ${cmd}: ${err.message}`);
            done(1);
          });
          child.on('exit', (c, sig) => {
            process.off('SIGINT', forward).off('SIGTERM', forward);
            done(c ?? (sig ? 1 : 0));
          });
        });
      }),
    Promise.resolve(0),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const plan = startPlan(electronCheck(), process.argv.slice(2));
  if (plan.notice) console.log(plan.notice);
  runAll(plan.commands).then((code) => process.exit(code));
}
