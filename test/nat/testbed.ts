/**
 * The NAT testbed (issue 16 §1), modelled on libp2p's hole-punch interop tests
 * (`lan_dialer`, `lan_listener`, `internet`): network namespaces that the test
 * itself creates and removes, never the host's own network.
 *
 *   internet ns  ── bridge `br0`, 198.51.100.0/24 (TEST-NET-2, so classified as
 *                   "direct", not LAN); the relay is 198.51.100.2 on it
 *   router k     ── `wan` 198.51.100.1k on the bridge, `lan` 192.168.k.1/24;
 *                   iptables: MASQUERADE out of `wan`, FORWARD policy DROP,
 *                   LAN → WAN accepted, WAN → LAN only ESTABLISHED,RELATED
 *                   (no port forwards, no unsolicited inbound), and the
 *                   router itself drops (not refuses) unsolicited packets
 *   home k       ── `eth0` 192.168.k.2/24, default route via its router
 *
 * Router kinds (`NatKind`, issue 16 §2): `eim` as above (Linux MASQUERADE:
 * endpoint-independent, port-preserving mapping; conntrack lets in only replies
 * from the remote endpoint a mapping was made for); `symmetric`, MASQUERADE
 * `--random-fully` (a fresh random port per remote endpoint: address-and-port-
 * dependent mapping); `strict`, `eim` that also drops every TCP SYN coming in
 * from the WAN, even one that matches a mapping (no inbound connection attempt
 * ever passes, so TCP simultaneous open cannot be completed from this side).
 *
 * Delays (tc netem, when the kernel has it): 100 ms on each router's WAN
 * egress, 25 ms on the internet namespace's egress (the relay's), as in the
 * interop tests. Each router has a counting chain `cvcount` hit by every packet
 * forwarded from its WAN, one rule per source (the relay, each other router):
 * the independent witness of which path traffic took.
 *
 * `teardown()` deletes every namespace it made (the veths and bridge go with
 * them); call it from `after()` so it runs on failure too.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { rmSync } from 'node:fs';
import { ROOT } from '../integration/harness.js';

export const INTERNET_NET = '198.51.100';
export const RELAY_IP = `${INTERNET_NET}.2`;

export type NatKind = 'eim' | 'symmetric' | 'strict';

export function routerWanIp(k: number): string {
  return `${INTERNET_NET}.1${k}`;
}

export function homeIp(k: number): string {
  return `192.168.${k}.2`;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

export class NatTestbed {
  readonly tag = `${process.pid % 100000}`;
  readonly internet = `cvnI${this.tag}`;
  private readonly made: string[] = [];
  private readonly bridges: ChildProcess[] = [];
  private readonly sockets: string[] = [];
  netem = false;

  router(k: number): string {
    return `cvnR${k}x${this.tag}`;
  }

  home(k: number): string {
    return `cvnH${k}x${this.tag}`;
  }

  private ip(...args: string[]): void {
    run('ip', args);
  }

  private nsExec(ns: string, cmd: string, ...args: string[]): string {
    return run('ip', ['netns', 'exec', ns, cmd, ...args]);
  }

  private addNs(ns: string): void {
    this.ip('netns', 'add', ns);
    this.made.push(ns);
    this.ip('-n', ns, 'link', 'set', 'lo', 'up');
  }

  /**
   * Builds the internet segment, `routers` NAT routers (1..routers; router k of
   * kind `kinds[k - 1]`, `eim` by default) and a home behind each of the first
   * `homes` of them. Throws if namespaces cannot be made.
   */
  build(routers: number, homes: number, kinds: readonly NatKind[] = []): void {
    this.addNs(this.internet);
    this.ip('-n', this.internet, 'link', 'add', 'br0', 'type', 'bridge');
    this.ip('-n', this.internet, 'addr', 'add', `${RELAY_IP}/24`, 'dev', 'br0');
    this.ip('-n', this.internet, 'link', 'set', 'br0', 'up');
    this.netem = this.tryNetem(this.internet, 'br0', '25ms');
    for (let k = 1; k <= routers; k++) this.addRouter(k, kinds[k - 1] ?? 'eim');
    for (let k = 1; k <= homes; k++) this.plugHome(k, k, true);
  }

  private tryNetem(ns: string, dev: string, delay: string): boolean {
    try {
      this.nsExec(ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'netem', 'delay', delay);
      return true;
    } catch {
      return false;
    }
  }

  private addRouter(k: number, kind: NatKind): void {
    const r = this.router(k);
    this.addNs(r);
    const wanOut = `cvw${k}x${this.tag}`;
    this.ip('link', 'add', wanOut, 'type', 'veth', 'peer', 'name', `cvW${k}x${this.tag}`);
    this.ip('link', 'set', wanOut, 'netns', this.internet);
    this.ip('link', 'set', `cvW${k}x${this.tag}`, 'netns', r);
    this.ip('-n', r, 'link', 'set', `cvW${k}x${this.tag}`, 'name', 'wan');
    this.ip('-n', this.internet, 'link', 'set', wanOut, 'master', 'br0');
    this.ip('-n', this.internet, 'link', 'set', wanOut, 'up');
    this.ip('-n', r, 'addr', 'add', `${routerWanIp(k)}/24`, 'dev', 'wan');
    this.ip('-n', r, 'link', 'set', 'wan', 'up');
    this.nsExec(r, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    if (this.netem) this.tryNetem(r, 'wan', '100ms');
    const ipt = (...args: string[]): string => this.nsExec(r, 'iptables', ...args);
    ipt('-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE', ...(kind === 'symmetric' ? ['--random-fully'] : []));
    // A home router is silent to unsolicited packets (no RST, no port unreachable): a
    // refused SYN would also leave a conntrack entry that makes MASQUERADE pick
    // another port for the hole punch's own SYN.
    ipt('-A', 'INPUT', '-i', 'wan', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT');
    ipt('-A', 'INPUT', '-i', 'wan', '-p', 'icmp', '--icmp-type', 'echo-request', '-j', 'ACCEPT');
    ipt('-A', 'INPUT', '-i', 'wan', '-j', 'DROP');
    ipt('-P', 'FORWARD', 'DROP');
    ipt('-N', 'cvcount');
    ipt('-A', 'cvcount', '-s', RELAY_IP);
    for (let j = 1; j <= 9; j++) if (j !== k) ipt('-A', 'cvcount', '-s', routerWanIp(j));
    ipt('-A', 'FORWARD', '-i', 'wan', '-j', 'cvcount');
    if (kind === 'strict') ipt('-A', 'FORWARD', '-i', 'wan', '-p', 'tcp', '--syn', '-j', 'DROP');
    ipt('-A', 'FORWARD', '-i', 'lan', '-o', 'wan', '-j', 'ACCEPT');
    ipt('-A', 'FORWARD', '-i', 'wan', '-o', 'lan', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT');
  }

  /** Connects home namespace `h` (created if `create`) to router `k`'s LAN as 192.168.k.2. */
  private plugHome(h: number, k: number, create: boolean): void {
    const home = this.home(h);
    const r = this.router(k);
    if (create) this.addNs(home);
    const a = `cvh${h}x${this.tag}`;
    const b = `cvl${k}x${this.tag}`;
    this.ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
    this.ip('link', 'set', a, 'netns', home);
    this.ip('link', 'set', b, 'netns', r);
    this.ip('-n', home, 'link', 'set', a, 'name', 'eth0');
    this.ip('-n', r, 'link', 'set', b, 'name', 'lan');
    this.ip('-n', r, 'addr', 'add', `192.168.${k}.1/24`, 'dev', 'lan');
    this.ip('-n', r, 'link', 'set', 'lan', 'up');
    this.ip('-n', home, 'addr', 'add', `${homeIp(k)}/24`, 'dev', 'eth0');
    this.ip('-n', home, 'link', 'set', 'eth0', 'up');
    this.ip('-n', home, 'route', 'add', 'default', 'via', `192.168.${k}.1`);
  }

  /**
   * Moves home `h` (and whatever runs in it) from its router to router `k`'s
   * LAN: its old link disappears, a new one comes up with a new address. The
   * router `k` must have no home plugged in yet.
   */
  move(h: number, k: number): void {
    this.ip('-n', this.home(h), 'link', 'del', 'eth0');
    this.plugHome(h, k, false);
  }

  /**
   * Makes a direct path between homes behind routers `a` and `b` impossible (each
   * router drops what comes from the other's public address) or possible again.
   */
  separate(a: number, b: number, on: boolean): void {
    for (const [k, other] of [[a, b], [b, a]] as const) {
      this.nsExec(this.router(k), 'iptables', on ? '-I' : '-D', 'FORWARD', ...(on ? ['1'] : []), '-i', 'wan', '-s', routerWanIp(other), '-j', 'DROP');
    }
  }

  /** Bytes router `k` forwarded from its WAN, by source: `relay` and `router<j>`. */
  counters(k: number): Record<string, number> {
    const out = this.nsExec(this.router(k), 'iptables', '-L', 'cvcount', '-v', '-x', '-n');
    const counts: Record<string, number> = {};
    for (const line of out.split('\n')) {
      const m = /^\s*(\d+)\s+(\d+)\s.*?\s(\d+\.\d+\.\d+\.\d+)\s+0\.0\.0\.0\/0/.exec(line);
      if (!m) continue;
      const src = m[3]!;
      const name = src === RELAY_IP ? 'relay' : `router${src.slice(-1)}`;
      counts[name] = Number(m[2]);
    }
    return counts;
  }

  /** Runs `ping -c1` from a home namespace; true if answered. */
  ping(h: number, ip: string): boolean {
    try {
      this.nsExec(this.home(h), 'ping', '-c', '1', '-W', '2', ip);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The control API of a peer inside namespace `ns` listens on that namespace's
   * loopback. A small forwarder started in the namespace exposes it on a Unix
   * socket (a filesystem path, reachable from the host's namespace).
   */
  async exposeApi(ns: string, apiUrl: string): Promise<string> {
    const port = new URL(apiUrl).port;
    const path = join(tmpdir(), `conclave-nat-${this.tag}-${ns}-${port}.sock`);
    rmSync(path, { force: true });
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, join(ROOT, 'test/nat/unix-forward.mjs'), path, port], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.bridges.push(child);
    this.sockets.push(path);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', () => reject(new Error(`API forwarder in ${ns} exited`)));
    });
    return path;
  }

  teardown(): void {
    for (const b of this.bridges) if (b.exitCode === null) b.kill('SIGKILL');
    for (const path of this.sockets) rmSync(path, { force: true });
    for (const ns of this.made.reverse()) {
      try {
        this.ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
    this.made.length = 0;
  }
}

/** True when this process may build namespaces (root on Linux, iproute2 and iptables present). */
export function canBuildTestbed(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    run('ip', ['-V']);
    run('iptables', ['-V']);
    return true;
  } catch {
    return false;
  }
}
