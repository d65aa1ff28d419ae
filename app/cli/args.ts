/**
 * @module cli/args
 * Command-line parsing for `conclave peer` and `conclave relay`: a small, strict
 * parser (unknown flags and missing values are usage errors, never ignored).
 */

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface PeerArgs {
  command: 'peer';
  profile: string;
  name?: string;
  listen: string[];
  apiPort: number;
  create?: string;
  join?: string;
  mdns: boolean;
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
  conclave peer --profile DIR [--name NICK] [--listen MULTIADDR ...] [--api-port PORT]
                [--create GROUPNAME | --join INVITE] [--no-mdns] [--invite-addrs all|none] [--keep-messages N] [--allow PEERID ...] [--verbose]
  conclave relay --listen MULTIADDR ... [--key-file PATH] [--verbose]`;

function takeValue(argv: string[], i: number, flag: string): string {
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
  return v;
}

export function parseArgs(argv: string[]): PeerArgs | RelayArgs {
  const [command, ...rest] = argv;
  if (command !== 'peer' && command !== 'relay') throw new UsageError(command ? `unknown command ${command}` : 'missing command');
  const listen: string[] = [];
  let profile: string | undefined;
  let name: string | undefined;
  let apiPort = 0;
  let create: string | undefined;
  let join: string | undefined;
  let keyFile: string | undefined;
  let mdns = true;
  let inviteAddresses: 'all' | 'none' = 'all';
  let keepMessages: number | undefined;
  const allow: string[] = [];
  let verbose = false;
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!;
    switch (flag) {
      case '--profile':
        profile = takeValue(rest, i++, flag);
        break;
      case '--name':
        name = takeValue(rest, i++, flag);
        if (name.length < 1 || name.length > 64) throw new UsageError('--name must be 1 to 64 characters');
        break;
      case '--listen':
        listen.push(takeValue(rest, i++, flag));
        while (rest[i + 1] !== undefined && !rest[i + 1]!.startsWith('--')) listen.push(rest[++i]!);
        break;
      case '--api-port': {
        const v = takeValue(rest, i++, flag);
        apiPort = Number(v);
        if (!/^\d+$/.test(v) || apiPort > 65535) throw new UsageError(`--api-port must be a port number, got ${v}`);
        break;
      }
      case '--create':
        create = takeValue(rest, i++, flag);
        break;
      case '--join':
        join = takeValue(rest, i++, flag);
        break;
      case '--key-file':
        keyFile = takeValue(rest, i++, flag);
        break;
      case '--no-mdns':
        mdns = false;
        break;
      case '--invite-addrs': {
        const v = takeValue(rest, i++, flag);
        if (v !== 'all' && v !== 'none') throw new UsageError(`--invite-addrs must be all or none, got ${v}`);
        inviteAddresses = v;
        break;
      }
      case '--keep-messages': {
        const v = takeValue(rest, i++, flag);
        keepMessages = Number(v);
        if (!/^\d+$/.test(v) || keepMessages < 1 || keepMessages > 1_000_000) throw new UsageError(`--keep-messages must be a number from 1 to 1000000, got ${v}`);
        break;
      }
      case '--allow':
        allow.push(takeValue(rest, i++, flag));
        while (rest[i + 1] !== undefined && !rest[i + 1]!.startsWith('--')) allow.push(rest[++i]!);
        break;
      case '--verbose':
        verbose = true;
        break;
      default:
        throw new UsageError(`unknown option ${flag}`);
    }
  }
  if (command === 'relay') {
    if (listen.length === 0) throw new UsageError('relay needs at least one --listen MULTIADDR');
    return { command, listen, ...(keyFile ? { keyFile } : {}), verbose };
  }
  if (!profile) throw new UsageError('peer needs --profile DIR');
  if (create && join) throw new UsageError('use --create or --join, not both');
  return {
    command,
    profile,
    ...(name ? { name } : {}),
    listen: listen.length > 0 ? listen : ['/ip4/0.0.0.0/tcp/0'],
    apiPort,
    ...(create ? { create } : {}),
    ...(join ? { join } : {}),
    mdns,
    inviteAddresses,
    ...(keepMessages ? { keepMessages } : {}),
    allow,
    verbose,
  };
}
