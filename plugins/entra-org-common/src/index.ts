/**
 * What `GET /api/entra-org/status` returns: the org sync's providers and their last rounds.
 * Shared by the backend that serves it and the portal's Org sync page that shows it.
 *
 * @packageDocumentation
 */

/** The last finished round of a provider, as the status endpoint shows it. */
export interface EntraOrgRoundStatus {
  kind: 'full' | 'delta';
  /** ISO 8601. */
  startedAt: string;
  /** ISO 8601. */
  finishedAt: string;
  durationMs: number;
  /** Users and groups in the directory Graph returned (disabled accounts included). */
  users: number;
  groups: number;
  memberships: number;
  /** User and Group entities given to the catalog (after filters; disabled accounts left out). */
  userEntities: number;
  groupEntities: number;
  changedEntities: number;
  graphRequests: number;
  resourceUnits: number;
  /** 429 answers met. */
  throttled: number;
}

/** Where one org sync provider stands. */
export interface EntraOrgProviderStatus {
  id: string;
  /** The scheduler task that runs its rounds. */
  taskId: string;
  /** A round is running in this process. */
  running: boolean;
  lastRound?: EntraOrgRoundStatus;
  /** ISO 8601, when the schedule is a fixed frequency and a round has started. */
  nextRoundAt?: string;
  /** The last failed round, until a round succeeds again. */
  lastError?: { message: string; at: string };
}
