import { LoggerService } from '@backstage/backend-plugin-api';
import { GraphClient, GraphRequestError } from './GraphClient';
import { DeltaObject, OrgState } from './OrgState';

/** The two links a finished round ends with; the next round starts from them. */
export interface DeltaLinks {
  users: string;
  groups: string;
}

/** The result of a round: the directory after it, its links, and whether it read everything. */
export interface DeltaRound {
  state: OrgState;
  links: DeltaLinks;
  /** True when the round started from nothing (first round, or after `410 Gone`). */
  full: boolean;
  /** Objects and member references applied; 0 means nothing changed since the last round. */
  changes: number;
}

interface DeltaPage {
  value: DeltaObject[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

/**
 * Reads `/users/delta` and `/groups/delta` rounds into an `OrgState`: from scratch, or from
 * the delta links of the last round, changes only. A delta link Graph no longer knows (`410
 * Gone`, after about 7 days) starts a full round.
 */
export class DeltaReader {
  constructor(
    private readonly client: GraphClient,
    private readonly options: {
      userSelect: string[];
      groupSelect: string[];
      logger: LoggerService;
    },
  ) {}

  /** The first request of a full round of users. */
  get usersUrl(): string {
    return `/users/delta?$select=${this.options.userSelect.join(',')}`;
  }

  /** The first request of a full round of groups; `members` brings `members@delta`. */
  get groupsUrl(): string {
    return `/groups/delta?$select=${[
      ...this.options.groupSelect,
      'members',
    ].join(',')}`;
  }

  /**
   * One round, users then groups. `previous` (with its links) is changed in place: when a
   * round fails, throw the state away and load the stored one again.
   */
  async read(previous?: {
    state: OrgState;
    links: DeltaLinks;
  }): Promise<DeltaRound> {
    if (previous) {
      try {
        return await this.round(previous.state, previous.links);
      } catch (e) {
        if (!(e instanceof GraphRequestError && e.status === 410)) throw e;
        this.options.logger.info(
          `Graph no longer knows the stored delta link (410 ${e.code}); reading the whole directory again`,
        );
      }
    }
    return this.round(new OrgState());
  }

  private async round(
    state: OrgState,
    links?: DeltaLinks,
  ): Promise<DeltaRound> {
    let changes = 0;
    const users = await this.follow(links?.users ?? this.usersUrl, o => {
      state.applyUser(o);
      changes += 1;
    });
    const groups = await this.follow(links?.groups ?? this.groupsUrl, o => {
      state.applyGroup(o);
      changes += 1 + (o['members@delta']?.length ?? 0);
    });
    return { state, links: { users, groups }, full: !links, changes };
  }

  /** Follows `@odata.nextLink` to the round's `@odata.deltaLink`, applying each object. */
  private async follow(
    start: string,
    apply: (o: DeltaObject) => void,
  ): Promise<string> {
    let url = start;
    for (;;) {
      const page = await this.client.get<DeltaPage>(url);
      for (const o of page.value) apply(o);
      if (page['@odata.deltaLink']) return page['@odata.deltaLink'];
      if (!page['@odata.nextLink']) {
        throw new GraphRequestError(
          200,
          'noDeltaLink',
          `Graph ended a delta round at ${url} with neither @odata.nextLink nor @odata.deltaLink`,
        );
      }
      url = page['@odata.nextLink'];
    }
  }
}
