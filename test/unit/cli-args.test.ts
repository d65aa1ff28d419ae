// `conclave peer|relay` argument parsing (app/cli/args.ts): defaults, every flag,
// flags that take several values, and each usage error with its message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../app/cli/args.js';

function usage(argv: string[], message: string): void {
  assert.throws(() => parseArgs(argv), (e: unknown) => e instanceof UsageError && e.message === message, `${argv.join(' ')} → ${message}`);
}

test('peer: defaults', () => {
  assert.deepEqual(parseArgs(['peer', '--profile', 'p']), {
    command: 'peer',
    profile: 'p',
    apiPort: 0,
    mdns: true,
    inviteAddresses: 'all',
    allow: [],
    verbose: false,
  });
});

test('peer: every flag; --listen and --allow take several values, in order, and repeat', () => {
  const args = parseArgs([
    'peer', '--profile', 'p', '--name', '-bob', '--listen', '/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2', '--api-port', '8080',
    '--listen', '/ip4/127.0.0.1/tcp/3', '--create', 'g', '--no-mdns', '--invite-addrs', 'none', '--keep-messages', '10',
    '--allow', 'A', 'B', '--verbose', '--allow', 'C', '--profile', 'q',
  ]);
  assert.deepEqual(args, {
    command: 'peer',
    profile: 'q',
    name: '-bob',
    listen: ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2', '/ip4/127.0.0.1/tcp/3'],
    apiPort: 8080,
    create: 'g',
    mdns: false,
    inviteAddresses: 'none',
    keepMessages: 10,
    allow: ['A', 'B', 'C'],
    verbose: true,
  });
  assert.deepEqual(parseArgs(['peer', '--profile', 'p', '--join', 'conclave://join/x', '--api-port', '65535']), {
    command: 'peer', profile: 'p', apiPort: 65535, join: 'conclave://join/x', mdns: true, inviteAddresses: 'all', allow: [], verbose: false,
  });
  assert.deepEqual(parseArgs(['peer', '--listen', 'a', '-x', '--profile', 'p']).listen, ['a', '-x'], 'a word after --listen is a value unless it starts with --');
});

test('relay: listen addresses, key file, verbose', () => {
  assert.deepEqual(parseArgs(['relay', '--listen', '/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/tcp/4002/ws', '--key-file', 'k', '--verbose']), {
    command: 'relay',
    listen: ['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/tcp/4002/ws'],
    keyFile: 'k',
    verbose: true,
  });
  assert.deepEqual(parseArgs(['relay', '--listen', 'a']), { command: 'relay', listen: ['a'], verbose: false });
});

test('usage errors, each with its message', () => {
  usage([], 'missing command');
  usage(['serve'], 'unknown command serve');
  usage(['peer', '--profile', 'p', '--bogus'], 'unknown option --bogus');
  usage(['peer', '--profile', 'p', 'stray'], 'unknown option stray');
  usage(['peer', '--profile', 'p', '-v'], 'unknown option -v');
  usage(['peer', '--profile', 'p', '--verbose=yes'], 'unknown option --verbose=yes');
  usage(['peer', '--profile', 'p', '--'], 'unknown option --');
  usage(['peer', '--profile'], '--profile needs a value');
  usage(['peer', '--profile', '--verbose'], '--profile needs a value');
  usage(['peer', '--profile', 'p', '--listen'], '--listen needs a value');
  usage(['peer', '--profile', 'p', '--name', ''], '--name must be 1 to 64 characters');
  usage(['peer', '--profile', 'p', '--name', 'x'.repeat(65)], '--name must be 1 to 64 characters');
  usage(['peer', '--profile', 'p', '--api-port', 'http'], '--api-port must be a port number, got http');
  usage(['peer', '--profile', 'p', '--api-port', '-1'], '--api-port must be a port number, got -1');
  usage(['peer', '--profile', 'p', '--api-port', '65536'], '--api-port must be a port number, got 65536');
  usage(['peer', '--profile', 'p', '--invite-addrs', 'some'], '--invite-addrs must be all or none, got some');
  usage(['peer', '--profile', 'p', '--keep-messages', '0'], '--keep-messages must be a number from 1 to 1000000, got 0');
  usage(['peer', '--profile', 'p', '--keep-messages', '1000001'], '--keep-messages must be a number from 1 to 1000000, got 1000001');
  usage(['peer', '--profile', 'p', '--keep-messages', '1e3'], '--keep-messages must be a number from 1 to 1000000, got 1e3');
  usage(['peer'], 'peer needs --profile DIR');
  usage(['peer', '--profile', 'p', '--create', 'g', '--join', 'i'], 'use --create or --join, not both');
  usage(['relay'], 'relay needs at least one --listen MULTIADDR');
  usage(['relay', '--bogus', '--listen', 'a'], 'unknown option --bogus');
  usage(['peer', '--api-port', 'x', '--bogus'], '--api-port must be a port number, got x');
});

test('peer: --relay takes relay multiaddrs (a bootstrap list) and checks each given after the flag', () => {
  const r1 = '/ip4/198.51.100.2/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
  const r2 = '/dns4/relay.example/tcp/443/ws/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
  const args = parseArgs(['peer', '--profile', 'p', '--relay', r1, r2]);
  assert.ok(args.command === 'peer');
  assert.deepEqual(args.relays, [r1, r2]);
  usage(['peer', '--profile', 'p', '--relay', '/ip4/198.51.100.2/tcp/4001'], '--relay must be a relay\'s multiaddr ending in /p2p/PEERID, got /ip4/198.51.100.2/tcp/4001');
});
