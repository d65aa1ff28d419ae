/**
 * @module store/profile
 * A profile directory: the identity key, each group's engine state with its
 * bookkeeping, the append-only message/whiteboard history and the bounded
 * catch-up traffic of every group.
 *
 *   DIR/profile.lock            pid of the process using the profile (O_EXCL)
 *   DIR/storage.key             32-byte storage key, mode 0600 (headless only)
 *   DIR/profile.json            sealed: identity seed and display name
 *   DIR/groups/<gid>/state.json sealed: engine snapshot + group bookkeeping
 *   DIR/groups/<gid>/history.log append-only, one sealed record per line
 *   DIR/groups/<gid>/traffic.log kept encrypted traffic for catch-up (bounded)
 *
 * Invariants:
 * - No secret touches the disk in the clear: everything but the lock and the key
 *   file is sealed under the storage key (store/seal.ts). In Electron the key is
 *   supplied by the caller (wrapped by safeStorage) and no key file is written.
 * - Every whole-file write is atomic (store/files.ts); history is append-only,
 *   and a history record counts as kept only once fsynced (`append` with sync,
 *   or the promise of `appendDurable`, which shares one fsync between the records
 *   appended together).
 * - Files carry a format version; `MIGRATIONS[v]` upgrades a record from v to
 *   v+1 on load (OpenMLS/Signal style). A version newer than this build refuses
 *   to load instead of guessing.
 * - One process per profile: a live lock holder makes `open` throw
 *   ProfileLockedError; a lock left by a dead process (kill -9) is taken over.
 */
import { existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, readdirSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync, closeSync, chmodSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { AppendLog, readFileIfExists, writeFileAtomic } from './files.js';
import { Sealer } from './seal.js';

export const PROFILE_FORMAT_VERSION = 1;

export class ProfileError extends Error {
  override readonly name: string = 'ProfileError';
}
export class ProfileLockedError extends ProfileError {
  override readonly name = 'ProfileLockedError';
  constructor(readonly dir: string, readonly pid: number) {
    super(`profile ${dir} is in use by another process (pid ${pid})`);
  }
}

/** Upgrades of a decoded record from version v to v+1. Empty while the format is at 1. */
export const MIGRATIONS: Record<number, (record: Record<string, unknown>) => Record<string, unknown>> = {};

export function migrate(record: Record<string, unknown>, kind: string): Record<string, unknown> {
  let current = record;
  let version = typeof current.version === 'number' ? current.version : 0;
  if (version > PROFILE_FORMAT_VERSION) {
    throw new ProfileError(`${kind} has format version ${version}, newer than this build understands (${PROFILE_FORMAT_VERSION})`);
  }
  while (version < PROFILE_FORMAT_VERSION) {
    const step = MIGRATIONS[version];
    if (!step) throw new ProfileError(`${kind} has format version ${version} and no migration exists`);
    current = { ...step(current), version: version + 1 };
    version += 1;
  }
  return current;
}

export interface ProfileIdentity {
  seed: Uint8Array;
  name: string;
  /**
   * The TCP port this peer listened on when last started with the default listen address: taken
   * again at the next start, so that the addresses fellow members saved for it still reach it
   * (peer.ts `startPeer`). Absent in older profiles and before the first start.
   */
  listenPort?: number;
}

/** One invite in a group's ledger (base64url): its signed ticket, the member proof key, the inviter's revocation. */
export interface InviteLedgerEntry {
  ticket: string;
  proofKey?: string;
  revocation?: string;
}

/** Group bookkeeping stored next to the engine snapshot. */
export interface GroupRecord {
  group: string;
  name: string;
  joinedAt: number;
  /** Last time the user marked the group read. */
  lastReadAt: number;
  /** Identities admitted per invite ID, as this member knows them (its own admissions and its fellow members'). */
  inviteUses: Record<string, string[]>;
  /**
   * Per invite ID, per identity counted in `inviteUses`: the join key's signature from its credential
   * (base64url), which a fellow member checks before it counts the use (peer/invite-ledger). Absent in older records.
   */
  inviteUseProofs?: Record<string, Record<string, string>>;
  /** Invites known to this member, by ID (peer/invite-ledger; issue 15 §2). Absent in older records. */
  invites?: Record<string, InviteLedgerEntry>;
  /** When this member learned each member was admitted (bounds what catch-up serves them). */
  admittedAt: Record<string, number>;
  /** No longer moved nor read (peer/state-file.ts); kept so that records of every version parse alike. */
  lastDataAt: number;
  /** Never filled nor read (the engine keeps the group's blocklist in its snapshot; review 40); kept so that records of every version parse alike. */
  blocklist: string[];
  /** Last known dialable multiaddrs of fellow members (reconnect after restart). */
  addresses?: Record<string, string[]>;
  /** Engine snapshot, base64 (the whole record is sealed). Null while joining. */
  snapshot: string | null;
}

export interface OpenOptions {
  /** Electron: the storage key unwrapped with safeStorage. Headless: omitted, a 0600 key file is used. */
  storageKey?: Uint8Array;
}

const GROUP_ID = /^[0-9a-f]{32}$/;

export class Profile {
  private readonly logs = new Map<string, AppendLog>();
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly sealer: Sealer,
    private readonly lockPath: string,
  ) {}

  static open(dir: string, options: OpenOptions = {}): Profile {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const lockPath = acquireLock(dir, join(dir, 'profile.lock'));
    try {
      const key = options.storageKey ?? loadOrCreateKeyFile(join(dir, 'storage.key'));
      return new Profile(dir, new Sealer(key), lockPath);
    } catch (err) {
      releaseLock(lockPath);
      throw err;
    }
  }

  /** The identity (created on first use). */
  identity(defaultName: string): ProfileIdentity {
    const path = join(this.dir, 'profile.json');
    const text = readFileIfExists(path);
    if (text === null) {
      const identity = { seed: new Uint8Array(randomBytes(32)), name: defaultName };
      this.saveIdentity(identity);
      return identity;
    }
    const record = this.openRecord(text, 'profile', 'profile.json');
    const seedHex = record.seed;
    const name = record.name;
    if (typeof seedHex !== 'string' || !/^[0-9a-f]{64}$/.test(seedHex) || typeof name !== 'string') {
      throw new ProfileError('profile.json is damaged (identity fields missing)');
    }
    const port = record.listenPort;
    const listenPort = typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
    return { seed: new Uint8Array(Buffer.from(seedHex, 'hex')), name, ...(listenPort ? { listenPort } : {}) };
  }

  saveIdentity(identity: ProfileIdentity): void {
    const record = { version: PROFILE_FORMAT_VERSION, seed: Buffer.from(identity.seed).toString('hex'), name: identity.name, ...(identity.listenPort ? { listenPort: identity.listenPort } : {}) };
    writeFileAtomic(join(this.dir, 'profile.json'), this.sealRecord('profile', record));
  }

  groupIds(): string[] {
    const dir = join(this.dir, 'groups');
    if (!existsSync(dir)) return [];
    return readdirSync(dir).filter((g) => GROUP_ID.test(g) && existsSync(join(dir, g, 'state.json'))).sort();
  }

  loadGroup(group: string): GroupRecord | null {
    const text = readFileIfExists(this.groupPath(group, 'state.json'));
    if (text === null) return null;
    const record = this.openRecord(text, `group/${group}`, `groups/${group}/state.json`);
    if (record.group !== group) throw new ProfileError(`groups/${group}/state.json belongs to another group`);
    return record as unknown as GroupRecord;
  }

  saveGroup(record: GroupRecord): void {
    this.assertOpen();
    writeFileAtomic(this.groupPath(record.group, 'state.json'), this.sealRecord(`group/${record.group}`, { version: PROFILE_FORMAT_VERSION, ...record }));
  }

  /** Append one record to a group's log (`history` or `traffic`), sealed, fsynced unless `sync` is false. */
  append(group: string, log: 'history' | 'traffic', record: unknown, sync = true): void {
    this.assertOpen();
    this.log(group, log).append(this.sealer.sealJson(`log/${log}/${group}`, record), sync);
  }

  /**
   * Append one record to a group's log, sealed, written now; resolves once it is
   * fsynced, one fsync shared by every record appended meanwhile (group commit,
   * store/files.ts).
   */
  appendDurable(group: string, log: 'history', record: unknown): Promise<void> {
    this.assertOpen();
    return this.log(group, log).appendDurable(this.sealer.sealJson(`log/${log}/${group}`, record));
  }

  read<T>(group: string, log: 'history' | 'traffic', parse: (value: unknown) => T | null): { records: T[]; skipped: number } {
    const purpose = `log/${log}/${group}`;
    return this.log(group, log).read((box) => {
      const value = this.sealer.openJson(purpose, box);
      return value === null ? null : parse(value);
    });
  }

  /** Replace a log (only the bounded traffic log is ever rewritten). */
  rewrite(group: string, log: 'traffic', records: unknown[]): void {
    const purpose = `log/${log}/${group}`;
    this.log(group, log).rewrite(records.map((r) => this.sealer.sealJson(purpose, r)));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const log of this.logs.values()) log.close();
    this.logs.clear();
    releaseLock(this.lockPath);
  }

  private log(group: string, name: string): AppendLog {
    if (!GROUP_ID.test(group)) throw new ProfileError('bad group id');
    const key = `${group}/${name}`;
    let log = this.logs.get(key);
    if (!log) {
      log = new AppendLog(this.groupPath(group, `${name}.log`));
      this.logs.set(key, log);
    }
    return log;
  }

  private groupPath(group: string, file: string): string {
    if (!GROUP_ID.test(group)) throw new ProfileError('bad group id');
    return join(this.dir, 'groups', group, file);
  }

  private sealRecord(purpose: string, record: Record<string, unknown>): string {
    return JSON.stringify({ format: 'conclave-sealed', version: PROFILE_FORMAT_VERSION, box: this.sealer.sealJson(purpose, record) }) + '\n';
  }

  private openRecord(text: string, purpose: string, file: string): Record<string, unknown> {
    let outer: unknown;
    try {
      outer = JSON.parse(text);
    } catch {
      throw new ProfileError(`${file} is not valid JSON`);
    }
    if (typeof outer !== 'object' || outer === null || (outer as { format?: unknown }).format !== 'conclave-sealed') {
      throw new ProfileError(`${file} is not a Conclave profile file`);
    }
    const inner = this.sealer.openJson(purpose, (outer as { box?: unknown }).box);
    if (typeof inner !== 'object' || inner === null) {
      throw new ProfileError(`${file} cannot be decrypted with this profile's storage key`);
    }
    return migrate(inner as Record<string, unknown>, file);
  }

  private assertOpen(): void {
    if (this.closed) throw new ProfileError('profile is closed');
  }
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Locks this process holds, by canonical path (a second open of one profile in one thread is refused by this). */
const locksHeld = new Set<string>();

/** When process `pid` started, in clock ticks since boot (Linux /proc), or null where unknown. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** How long a lock without a readable holder (written by an older peer, being filled) counts as held. */
const UNREADABLE_LOCK_HELD_MS = 5_000;

/** Creates `path` holding `content`, atomically (a temporary file hard-linked in): false if it exists. */
function createFilled(path: string, content: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err;
    // No hard links here (FAT, exFAT, some network mounts; review 32's third pass: no profile
    // there could open). Created then filled, as before: a lock read empty counts as held for a while.
    return createThenFill(path, content);
  } finally {
    unlinkSync(tmp);
  }
}

function createThenFill(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeFileSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Removes `path` if it still holds `content`: renamed aside first, so that a file someone else put
 * there meanwhile is never removed. Such a file is linked back; if that cannot be done (another took
 * the name meanwhile, or no hard links), it is left aside rather than removed or written over
 * (review 32's fourth pass: put back by unlink-on-EEXIST and by rename, a live starter's file went).
 */
function removeIfStill(path: string, content: string): void {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.gone`;
  try {
    renameSync(path, aside);
  } catch {
    return; // gone meanwhile
  }
  if (readFileIfExists(aside) === content) return unlinkSync(aside);
  try {
    linkSync(aside, path);
    unlinkSync(aside);
  } catch {
    // left aside: never removed, never written over another
  }
}

/** A short name for the contents of a file that a guard is about. */
const digestOf = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** The guard under which a stale lock holding `staleText` is replaced (exported for the tests). */
export const takeoverGuardPath = (lockPath: string, staleText: string): string => `${lockPath}.takeover.${digestOf(staleText)}`;

/** The mark whoever breaks a guard holding `deadText` creates first (exported for the tests). */
export const guardBreakMark = (guardPath: string, deadText: string): string => `${guardPath}.broken.${digestOf(deadText)}`;

/**
 * Whether the lock `text` names a holder that still holds it. The lock names its holder by PID and,
 * on Linux, its start time. Stale: its process is gone; its PID now names a process started at
 * another time (reused after a reboot); or it names this process at another start time (a restart
 * after kill -9 that got the same PID, as PID 1 in a container: review 32). This very process (same
 * PID and start time: another thread, or the profile by another path) holds it.
 */
function lockHeld(text: string, mtimeMs: number): boolean {
  const [pidText, startText] = text.trim().split(' ');
  const pid = Number.parseInt(pidText ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return Date.now() - mtimeMs < UNREADABLE_LOCK_HELD_MS;
  const start = processStart(pid);
  if (pid === process.pid) return startText !== undefined && startText !== '' && start === startText;
  return pidAlive(pid) && (!startText || start === null || start === startText);
}

/**
 * Takes the lock on `dir`. It is created already filled (review 32's second pass: created empty,
 * then filled, a second starter read it empty, took it for stale and both opened the profile), and
 * a stale one is replaced under a guard file, so that two starters cannot both replace it.
 */
function acquireLock(dir: string, lockPath: string): string {
  const path = join(realpathSync(dirname(lockPath)), basename(lockPath));
  if (locksHeld.has(path)) throw new ProfileLockedError(dir, process.pid);
  const content = `${process.pid} ${processStart(process.pid) ?? ''}\n`;
  for (let attempt = 0; attempt < 4; attempt++) {
    if (createFilled(path, content)) {
      locksHeld.add(path);
      return path;
    }
    let text: string | null;
    let mtimeMs = 0;
    try {
      text = readFileSync(path, 'utf8');
      mtimeMs = statSync(path).mtimeMs;
    } catch {
      continue; // gone meanwhile: try again
    }
    if (lockHeld(text, mtimeMs)) throw new ProfileLockedError(dir, Number.parseInt(text, 10));
    // Stale. Replaced only by whoever holds the guard made for this very stale lock (its contents
    // name it), so starters that judged the same lock compete for one file, and no guard is ever put
    // back. The guard names its holder as the lock does. A guard whose holder died is broken once,
    // by whoever creates the break mark for that dead holder (review 32's third and fourth passes:
    // guards broken by age, then put back after a rename, let two starters hold one).
    const guard = takeoverGuardPath(path, text);
    if (!createFilled(guard, content)) {
      const held = readFileIfExists(guard);
      if (held !== null && !lockHeld(held, statMtime(guard)) && createFilled(guardBreakMark(guard, held), content)) {
        try {
          unlinkSync(guard);
        } catch {
          // gone meanwhile
        }
      }
      continue;
    }
    let taken = false;
    try {
      if (readFileIfExists(path) === text) {
        removeIfStill(path, text);
        taken = createFilled(path, content);
      }
    } finally {
      if (readFileIfExists(guard) === content) unlinkSync(guard); // ours: nobody breaks a live holder's
    }
    if (taken) {
      locksHeld.add(path);
      return path;
    }
  }
  throw new ProfileError(`could not take the lock on profile ${dir}`);
}

function statMtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function releaseLock(lockPath: string): void {
  locksHeld.delete(lockPath);
  try {
    const [pidText, startText] = (readFileIfExists(lockPath) ?? '').trim().split(' ');
    if (Number.parseInt(pidText ?? '', 10) === process.pid && (startText ?? '') === (processStart(process.pid) ?? '')) unlinkSync(lockPath);
  } catch {
    // already gone
  }
}

function loadOrCreateKeyFile(path: string): Uint8Array {
  if (!existsSync(path)) {
    const key = randomBytes(32);
    writeFileAtomic(path, key.toString('hex') + '\n', 0o600);
    chmodSync(path, 0o600);
    return new Uint8Array(key);
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ProfileError(`${path} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}`);
  }
  const hex = readFileSync(path, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new ProfileError(`${path} is not a storage key`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
