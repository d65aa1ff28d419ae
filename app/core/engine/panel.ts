/**
 * @module core/engine/panel
 * The bridge to the fractional-key panel (004; app/fractional): membership changes go
 * to the panel, its frames go out as unicast Panel messages, its log lines and
 * rejections come back into the key log. docs/protocol.md §10.
 */
import { addLog, refuseNonMember, reject, unicast, type EngineCore } from './context.js';
import { type MemberKey } from '../types.js';
import { ensure } from '../errors.js';
import { MsgType } from '../wire.js';

/** Panel messages a joiner keeps until its keys arrive: in all, and from one sender. */
export const MAX_PENDING_PANEL = 64;
export const MAX_PENDING_PANEL_PER_SENDER = 8;

export function onPanel(core: EngineCore, from: MemberKey, body: Uint8Array, now: number): void {
  ensure(core.panel, 'invalid', 'this member runs no fractional-key panel');
  if (core.s.state === 'joining') {
    // The admitter's panel may count us before our keys arrive: keep a few, replay on joining.
    // Nobody here can tell a member yet, so each sender gets a share: one stranger's flood cannot
    // push a member's out (review 32). Those from non-members are refused on replay.
    ensure(core.pendingPanel.filter((p) => p.from === from).length < MAX_PENDING_PANEL_PER_SENDER, 'stale', 'too many panel messages from one sender while joining');
    if (core.pendingPanel.length >= MAX_PENDING_PANEL) {
      // Full: a contact's or a roster member's replaces the oldest from anyone else (review 32's
      // second pass: eight throwaway identities filled it), as the sealed-control buffer does.
      const known = (k: MemberKey) => core.s.roster[k] !== undefined || (core.join?.contacts.includes(k) ?? false);
      const stranger = known(from) ? core.pendingPanel.findIndex((p) => !known(p.from)) : -1;
      ensure(stranger >= 0, 'stale', 'too many panel messages while joining');
      core.pendingPanel.splice(stranger, 1);
    }
    core.pendingPanel.push({ from, body });
    return;
  }
  ensure(core.s.state === 'member', 'stale', 'panel message while not a member');
  refuseNonMember(core, from, 'panel message');
  core.panel.receive(from, body, now);
}

/** On joining: the kept panel messages of current members go to the hook; the others are refused. */
export function replayPendingPanel(core: EngineCore, now: number): void {
  const kept = core.pendingPanel;
  core.pendingPanel = [];
  if (!core.panel) return;
  for (const p of kept) {
    if (core.s.roster[p.from]?.state === 'member' && !core.s.blocklist.includes(p.from)) core.panel.receive(p.from, p.body, now);
    else if (core.s.blocklist.includes(p.from)) reject(core, p.from, 'blocked', 'panel message kept while joining, from an excluded member', now);
    else reject(core, p.from, 'not-member', 'panel message kept while joining, from a non-member', now);
  }
}

/** Feeds membership changes to the panel and carries its messages and log lines. */
export function drivePanel(core: EngineCore, now: number): void {
  const panel = core.panel;
  if (!panel || core.s.params.panelSize < 4 || core.s.state !== 'member') return;
  const members = Object.entries(core.s.roster)
    .filter(([k, r]) => r.state === 'member' && !core.s.blocklist.includes(k))
    .map(([key, r]) => ({ key, admittedAt: r.admittedAt }));
  const viewKey = `${members.length}:${core.s.blocklist.length}:${members.map((m) => m.key).sort().join('')}`;
  if (viewKey !== core.panelViewKey) {
    core.panelViewKey = viewKey;
    panel.update({ self: core.self, members, blocked: [...core.s.blocklist], panelSize: core.s.params.panelSize }, now);
  }
  for (let t = panel.pollTransmit(); t; t = panel.pollTransmit()) unicast(core, t.to, { type: MsgType.Panel, body: t.bytes });
  for (let e = panel.pollEvent(); e; e = panel.pollEvent()) {
    if (e.kind === 'rejected') reject(core, e.from, 'invalid', `panel: ${e.text}`, now);
    else addLog(core, now, e.kind, e.text);
  }
}
