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

export function onPanel(core: EngineCore, from: MemberKey, body: Uint8Array, now: number): void {
  ensure(core.panel, 'invalid', 'this member runs no fractional-key panel');
  if (core.s.state === 'joining') {
    // The admitter's panel may count us before our keys arrive: keep a few, replay on joining.
    ensure(core.pendingPanel.length < 64, 'stale', 'too many panel messages while joining');
    core.pendingPanel.push({ from, body });
    return;
  }
  ensure(core.s.state === 'member', 'stale', 'panel message while not a member');
  refuseNonMember(core, from, 'panel message');
  core.panel.receive(from, body, now);
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
