/**
 * @module cli/main
 * The headless commands (issue 5 §4):
 * - `conclave peer`: a full peer with its control API on 127.0.0.1. Prints
 *   `{"event":"ready","api":…,"token":…,"peerId":…}` on stdout, then with
 *   `--create` `{"event":"invite",…}`, with `--join` `{"event":"joined",…}`.
 * - `conclave relay`: a circuit relay v2 server and bootstrap node, with the
 *   default 128 KiB / 2 min relayed-connection limit removed.
 *
 * Invariants: stdout carries only JSON lines; every failure is ONE line on
 * stderr (`conclave: …`) and a non-zero exit (2 for usage, 1 otherwise); no
 * secret other than the API token (which the caller needs) is ever printed.
 */
import '../net/shim.js';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { parseArgs, UsageError, USAGE, type PeerArgs, type RelayArgs } from './args.js';
import { startPeer } from '../peer/peer.js';
import { serveApi, PortInUseError } from '../api/server.js';
import { ApiError } from '../api/handler.js';
import { ProfileError } from '../store/profile.js';
import { writeFileAtomic } from '../store/files.js';
import { createConclaveNode } from '../net/node.js';

function out(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function fail(message: string, code = 1): never {
  process.stderr.write(`conclave: ${message.replace(/\s+/g, ' ').trim()}\n`);
  process.exit(code);
}

function describe(err: unknown): string {
  if (err instanceof ApiError || err instanceof ProfileError || err instanceof PortInUseError || err instanceof UsageError) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EADDRINUSE') return `listen address in use: ${e.message}`;
  if (e instanceof Error && e.name === 'UnsupportedListenAddressesError') {
    const failed = /(\/[^\s:]+): Error: listen (\w+)/.exec(e.message);
    if (failed) return `cannot listen on ${failed[1]}: ${failed[2] === 'EADDRINUSE' ? 'address already in use' : failed[2]}`;
    return 'cannot listen on the given --listen addresses';
  }
  if (e instanceof Error && (e.name === 'UnknownProtocolError' || /multiaddr/i.test(e.message))) return `invalid multiaddr: ${e.message}`;
  if (e instanceof Error) return `${e.name}: ${e.message.split(/\s+at\s/)[0]}`;
  return 'unexpected error';
}

/** A stray rejection inside a networking library must not take a running peer down. */
function keepRunningOnStrayRejections(verbose: boolean): void {
  process.on('unhandledRejection', (reason) => {
    if (verbose) process.stderr.write(`[peer] ignored unhandled rejection: ${reason instanceof Error ? reason.name : typeof reason}\n`);
  });
}

async function runPeer(args: PeerArgs): Promise<void> {
  const log = args.verbose ? (line: string) => process.stderr.write(`[peer] ${line}\n`) : undefined;
  keepRunningOnStrayRejections(args.verbose);
  const peer = await startPeer({ profile: args.profile, ...(args.name ? { name: args.name } : {}), ...(args.listen ? { listen: args.listen } : {}), ...(args.relays ? { relays: args.relays } : {}), mdns: args.mdns, ...(args.memberRelay === false ? { memberRelay: false } : {}), inviteAddresses: args.inviteAddresses, ...(args.keepMessages ? { keepTraffic: args.keepMessages } : {}), allow: args.allow, ...(log ? { log } : {}) });
  let server;
  try {
    const token = randomBytes(24).toString('base64url');
    server = await serveApi(peer.api, { port: args.apiPort, token });
    out({ event: 'ready', api: server.url, token, peerId: peer.peerId });
  } catch (err) {
    await peer.stop();
    throw err;
  }
  const stop = async (): Promise<void> => {
    await server.close().catch(() => {});
    await peer.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  if (args.create) {
    try {
      const created = (await peer.api.call('group.create', { name: args.create })) as { group: string; invite: string };
      out({ event: 'invite', group: created.group, invite: created.invite });
    } catch (err) {
      await server.close().catch(() => {});
      await peer.stop();
      throw err;
    }
  }
  if (args.join) {
    let group: string;
    const unsubscribe = peer.api.subscribe((event, payload) => {
      if (event === 'group.joinProgress') {
        const p = payload as { group: string; stage: string; detail?: string; path?: string };
        if (p.path) out({ event: 'join-path', group: p.group, path: p.path });
        if (p.stage === 'keys-received') out({ event: 'joined', group: p.group });
        if (p.stage === 'failed') out({ event: 'join-failed', group: p.group, detail: p.detail ?? '' });
      }
    });
    try {
      group = ((await peer.api.call('group.join', { invite: args.join })) as { group: string }).group;
      out({ event: 'joining', group });
      const groups = (await peer.api.call('group.list', {})) as { group: string; state: string }[];
      if (groups.some((g) => g.group === group && g.state === 'member')) out({ event: 'joined', group }); // already a member (restart)
    } catch (err) {
      unsubscribe();
      await server.close().catch(() => {});
      await peer.stop();
      throw err;
    }
  }
}

function loadRelaySeed(path: string | undefined): Uint8Array {
  if (!path) return new Uint8Array(randomBytes(32));
  if (!existsSync(path)) {
    const seed = randomBytes(32);
    writeFileAtomic(path, seed.toString('hex') + '\n', 0o600);
    return new Uint8Array(seed);
  }
  if ((statSync(path).mode & 0o077) !== 0) throw new ProfileError(`${path} is readable by other users; run: chmod 600 ${path}`);
  const hex = readFileSync(path, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new ProfileError(`${path} is not a relay key file`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

async function runRelay(args: RelayArgs): Promise<void> {
  keepRunningOnStrayRejections(args.verbose);
  const node = await createConclaveNode({ seed: loadRelaySeed(args.keyFile), listen: args.listen, mdns: false, relayServer: true });
  out({ event: 'ready', peerId: node.peerId.toString(), addresses: node.getMultiaddrs().map((a) => a.toString()) });
  const stop = async (): Promise<void> => {
    await Promise.resolve(node.stop()).catch(() => {});
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

export async function main(argv: string[]): Promise<void> {
  let args: PeerArgs | RelayArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    fail(`${describe(err)}\n${USAGE}`.split('\n')[0]!, 2);
  }
  try {
    if (args.command === 'peer') await runPeer(args);
    else await runRelay(args);
  } catch (err) {
    fail(describe(err));
  }
}
