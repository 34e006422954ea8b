// Codes of the sync agent (device side); the lead adds them to runtime/errors.ts ErrorCodes.
export const SyncErrorCodes = {
  /** The hub holds events the device does not, or a different event at a position: sending stops. */
  SYNC_HISTORY_DIVERGED: 'SYNC_HISTORY_DIVERGED',
  /** The hub refused an event or the agent (revoked, verification failure): sending stops. */
  SYNC_REFUSED: 'SYNC_REFUSED',
  /** The hub holds fewer events than it once acknowledged (restored from a backup): resending. A warning. */
  SYNC_HUB_BEHIND: 'SYNC_HUB_BEHIND',
  /** flush() did not see everything acknowledged in time. */
  SYNC_TIMEOUT: 'SYNC_TIMEOUT',
  /** The hub has not approved this agent yet: `pcp hub approve <agent_id>` on the hub. */
  SYNC_PENDING_APPROVAL: 'SYNC_PENDING_APPROVAL',
  /** One event is larger than a sync message may be; it can only leave the device in an export. */
  SYNC_EVENT_TOO_LARGE: 'SYNC_EVENT_TOO_LARGE',
  /** The local store could not be read (it is reopening after a write error): handshaking again later. A warning. */
  SYNC_STORE_UNREADABLE: 'SYNC_STORE_UNREADABLE',
  /** An answer on `down` without a valid signature of the pinned hub key (a forgery on an open broker): ignored. A warning. */
  SYNC_ANSWER_UNAUTHENTICATED: 'SYNC_ANSWER_UNAUTHENTICATED'
} as const
