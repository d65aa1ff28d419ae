/**
 * What a device that is no longer (or not yet) a member of a group can still do,
 * shown where it would otherwise meet buttons that can only fail: Invite and
 * Exclude (issue 18 §6). A departed or excluded identity is blocked by every
 * member for good (docs/protocol.md §12), so coming back takes another profile:
 * docs/ui.md "Coming back to a group".
 */
import type { GroupSummary } from '../../app/api/contract.js';

interface Props {
  state: GroupSummary['state'];
  /** What the screen would have offered a member: "invite others", "exclude members". */
  cannot: string;
}

export function NotAMember({ state, cannot }: Props) {
  if (state === 'member') return null;
  if (state === 'joining') {
    return (
      <div className="not-member" data-testid="not-member" data-state={state}>
        <p>You can {cannot} once a member has admitted you and handed over the group's keys.</p>
      </div>
    );
  }
  return (
    <div className="not-member" data-testid="not-member" data-state={state}>
      <p>
        <strong>{state === 'left' ? 'You left this group' : 'You were removed from this group'}</strong>, so you can no longer {cannot}.
      </p>
      <p className="muted">
        What you can still do: read the messages and the board you already had (they stay on this device), see who was in the group, and look at its keys.
      </p>
      <p className="muted">
        To come back, ask a member for a new invite and open it in another profile (<code>npm run web -- --profile OTHER-DIR</code>): every member refuses this identity in this group for good, so it cannot be admitted again.
      </p>
    </div>
  );
}
