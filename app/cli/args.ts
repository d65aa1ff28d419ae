/**
 * @module cli/args
 * Command-line parsing for `conclave peer` and `conclave relay`: a small, strict
 * parser (unknown flags and missing values are usage errors, never ignored) over
 * node:util's parseArgs tokens.
 */
import { parseArgs as parseTokens } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface PeerArgs {
  command: 'peer';
  profile: string;
  name?: string;
  /** Absent: the port this profile listened on last time, on every IPv4 interface (peer.ts `startPeer`). */
  listen?: string[];
  /** Relays to reserve a slot on when behind a NAT (a bootstrap list; more are learnt from invites). */
  relays?: string[];
  apiPort: number;
  create?: string;
  join?: string;
  mdns: boolean;
  /** false: do not relay for the groups' members even when publicly reachable (issue 16 §5; default on). */
  memberRelay?: false;
  inviteAddresses: 'all' | 'none';
  /** Encrypted messages kept per group for catch-up. */
  keepMessages?: number;
  /** Peer IDs admitted without an invite. */
  allow: string[];
  verbose: boolean;
}

export interface RelayArgs {
  command: 'relay';
  listen: string[];
  keyFile?: string;
  verbose: boolean;
}

export const USAGE = `usage:
  conclave peer --profile DIR [--name NICK] [--listen MULTIADDR ...] [--relay MULTIADDR ...] [--api-port PORT]
                [--create GROUPNAME | --join INVITE] [--no-mdns] [--no-member-relay] [--invite-addrs all|none] [--keep-messages N] [--allow PEERID ...] [--verbose]
  conclave relay --listen MULTIADDR ... [--key-file PATH] [--verbose]`;

/** The flags. --listen, --relay and --allow also take the words after their value, up to the next `--flag`. */
const OPTIONS = {
  profile: { type: 'string' },
  name: { type: 'string' },
  listen: { type: 'string' },
  relay: { type: 'string' },
  'api-port': { type: 'string' },
  create: { type: 'string' },
  join: { type: 'string' },
  'key-file': { type: 'string' },
  'no-mdns': { type: 'boolean' },
  'no-member-relay': { type: 'boolean' },
  'invite-addrs': { type: 'string' },
  'keep-messages': { type: 'string' },
  allow: { type: 'string' },
  verbose: { type: 'boolean' },
} as const satisfies Record<string, { type: 'string' | 'boolean' }>;

type Flag = keyof typeof OPTIONS;

/**
 * Splits argv with node:util's parseArgs (non-strict, so that this module words
 * the errors and a value may start with a single dash), then walks its tokens in
 * order, so the first problem in the command line is the one reported.
 */
export function parseArgs(argv: string[]): PeerArgs | RelayArgs {
  const [command, ...rest] = argv;
  if (command !== 'peer' && command !== 'relay') throw new UsageError(command ? `unknown command ${command}` : 'missing command');
  const { tokens } = parseTokens({ args: rest, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const strings = new Map<Flag, string>();
  const lists = { listen: [] as string[], relay: [] as string[], allow: [] as string[] };
  const flags = new Set<Flag>();
  let several: string[] | null = null; // the list that takes the next words, after --listen, --relay or --allow
  let lastIndex = -1;
  for (const token of tokens) {
    const raw = rest[token.index]!;
    if (token.index === lastIndex) continue; // -ab: one word, several short-option tokens
    lastIndex = token.index;
    if (several && !raw.startsWith('--')) {
      several.push(raw);
      continue;
    }
    several = null;
    if (token.kind !== 'option' || !Object.hasOwn(OPTIONS, token.name)) throw new UsageError(`unknown option ${raw}`);
    const flag = token.name as Flag;
    if (OPTIONS[flag].type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`unknown option ${raw}`);
      flags.add(flag);
      continue;
    }
    const value = token.value;
    if (value === undefined || (!token.inlineValue && value.startsWith('--'))) throw new UsageError(`--${flag} needs a value`);
    checkValue(flag, value);
    if (flag === 'listen' || flag === 'relay' || flag === 'allow') {
      several = lists[flag];
      several.push(value);
    } else {
      strings.set(flag, value);
    }
  }
  const verbose = flags.has('verbose');
  const listen = lists.listen;
  if (command === 'relay') {
    if (listen.length === 0) throw new UsageError('relay needs at least one --listen MULTIADDR');
    const keyFile = strings.get('key-file');
    return { command, listen, ...(keyFile ? { keyFile } : {}), verbose };
  }
  const profile = strings.get('profile');
  const name = strings.get('name');
  const create = strings.get('create');
  const join = strings.get('join');
  const keepMessages = strings.has('keep-messages') ? Number(strings.get('keep-messages')) : undefined;
  if (!profile) throw new UsageError('peer needs --profile DIR');
  if (create && join) throw new UsageError('use --create or --join, not both');
  return {
    command,
    profile,
    ...(name ? { name } : {}),
    ...(listen.length > 0 ? { listen } : {}),
    ...(lists.relay.length > 0 ? { relays: lists.relay } : {}),
    apiPort: Number(strings.get('api-port') ?? 0),
    ...(create ? { create } : {}),
    ...(join ? { join } : {}),
    mdns: !flags.has('no-mdns'),
    ...(flags.has('no-member-relay') ? { memberRelay: false as const } : {}),
    inviteAddresses: strings.get('invite-addrs') === 'none' ? 'none' : 'all',
    ...(keepMessages ? { keepMessages } : {}),
    allow: lists.allow,
    verbose,
  };
}

/** The value checks, made where the flag appears. */
function checkValue(flag: Flag, v: string): void {
  switch (flag) {
    case 'name':
      if (v.length < 1 || v.length > 64) throw new UsageError('--name must be 1 to 64 characters');
      break;
    case 'api-port':
      if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError(`--api-port must be a port number, got ${v}`);
      break;
    case 'relay':
      if (!/^\/(ip4|ip6|dns|dns4|dns6)\/[^/]+\/tcp\/\d+(\/ws)?\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/.test(v)) throw new UsageError(`--relay must be a relay's multiaddr ending in /p2p/PEERID, got ${v}`);
      break;
    case 'invite-addrs':
      if (v !== 'all' && v !== 'none') throw new UsageError(`--invite-addrs must be all or none, got ${v}`);
      break;
    case 'keep-messages':
      if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1_000_000) throw new UsageError(`--keep-messages must be a number from 1 to 1000000, got ${v}`);
      break;
    default:
      break;
  }
}
