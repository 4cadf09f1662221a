import { LoggerService } from '@backstage/backend-plugin-api';
import { GraphClient, GraphRequestError } from './GraphClient';
import { TaskLimiter } from './limiter';
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
  /**
   * The longest chain of requests that each waited for the one before (a next link, or the
   * list page that named the groups): with Graph's latency, the least time the round can take.
   */
  sequentialRequests: number;
  /** A delta round's objects, as applied: what the round changed, for the store's journal. */
  applied?: AppliedChanges;
}

interface DeltaPage {
  value: DeltaObject[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

/** How many requests a round keeps in flight, and how it scopes the member reads. */
export interface DeltaReaderOptions {
  userSelect: string[];
  groupSelect: string[];
  logger: LoggerService;
  /** Graph requests in flight at once. Default 64. */
  concurrency?: number;
  /** Groups per `/groups/delta?$filter=id eq ...` chain in a full round. Default 40. */
  groupsPerMemberRead?: number;
}

/** What a delta round applied. */
export interface AppliedChanges {
  users: DeltaObject[];
  groups: DeltaObject[];
  /** Members of the groups the round removed, as they were: their entities change too. */
  formerMembers: string[];
}

/** Pages after which a chain of delta pages is read ahead of chains not yet started. */
const LONG_CHAIN_PAGES = 3;

/** Where a chain of requests starts, and the longest chain met so far. */
interface Chain {
  depth: number;
  reached(depth: number): void;
}

class Longest {
  depth = 0;
  from(depth: number): Chain {
    return {
      depth,
      reached: d => {
        this.depth = Math.max(this.depth, d);
      },
    };
  }
}

interface ListPage<T> {
  value: T[];
  '@odata.nextLink'?: string;
}

/**
 * Reads users, groups and memberships from Graph into an `OrgState`.
 *
 * A full round (the first, or after `410 Gone`) first asks `/users/delta` and `/groups/delta`
 * for links that start now (`$deltatoken=latest`), then reads the directory as it is, in
 * parallel: users and groups from the list endpoints (999 a page), and members through
 * `/groups/delta` scoped by `$filter` to a few dozen group ids at a time, many such chains at
 * once. A change made while that runs comes again in the next delta round, where applying it
 * twice does no harm. A delta round follows the two stored links, users and groups at once.
 * A delta link Graph no longer knows (`410 Gone`, after about 7 days) starts a full round.
 */
export class DeltaReader {
  private readonly concurrency: number;
  private readonly groupsPerMemberRead: number;

  constructor(
    private readonly client: GraphClient,
    private readonly options: DeltaReaderOptions,
  ) {
    this.concurrency = options.concurrency ?? 64;
    this.groupsPerMemberRead = options.groupsPerMemberRead ?? 40;
  }

  /** The first request of a round of users. */
  get usersUrl(): string {
    return `/users/delta?$select=${this.options.userSelect.join(',')}`;
  }

  /** The first request of a round of groups; `members` brings `members@delta`. */
  get groupsUrl(): string {
    return `/groups/delta?$select=${[
      ...this.options.groupSelect,
      'members',
    ].join(',')}`;
  }

  /**
   * One round. `previous` (with its links) is changed in place: when a round fails, throw the
   * state away and load the stored one again.
   */
  async read(previous?: {
    state: OrgState;
    links: DeltaLinks;
  }): Promise<DeltaRound> {
    if (previous) {
      try {
        return await this.deltaRound(previous.state, previous.links);
      } catch (e) {
        if (!(e instanceof GraphRequestError && e.status === 410)) throw e;
        this.options.logger.info(
          `Graph no longer knows the stored delta link (410 ${e.code}); reading the whole directory again`,
        );
      }
    }
    return this.fullRound();
  }

  private async deltaRound(
    state: OrgState,
    links: DeltaLinks,
  ): Promise<DeltaRound> {
    const limiter = new TaskLimiter(this.concurrency);
    const longest = new Longest();
    let changes = 0;
    const next: Partial<DeltaLinks> = {};
    const applied: AppliedChanges = {
      users: [],
      groups: [],
      formerMembers: [],
    };
    limiter.add(async () => {
      next.users = await this.follow(
        limiter,
        longest.from(0),
        links.users,
        o => {
          state.applyUser(o);
          applied.users.push(o);
          changes += 1;
        },
      );
    });
    limiter.add(async () => {
      next.groups = await this.follow(
        limiter,
        longest.from(0),
        links.groups,
        o => {
          if (o['@removed'])
            applied.formerMembers.push(...state.memberIds(o.id));
          state.applyGroup(o);
          applied.groups.push(o);
          changes += 1 + (o['members@delta']?.length ?? 0);
        },
      );
    });
    await limiter.settle();
    state.seal();
    return {
      state,
      links: next as DeltaLinks,
      full: false,
      changes,
      sequentialRequests: longest.depth,
      applied,
    };
  }

  private async fullRound(): Promise<DeltaRound> {
    const state = new OrgState();
    const limiter = new TaskLimiter(this.concurrency);
    const longest = new Longest();
    // The links come first: whatever changes from here on is in the next delta round.
    const [users, groups] = await Promise.all(
      [this.usersUrl, this.groupsUrl].map(url =>
        this.follow(
          limiter,
          longest.from(0),
          `${url}&$deltatoken=latest`,
          () => {
            throw new GraphRequestError(
              200,
              'unexpectedDeltaData',
              `Graph sent objects for ${url}&$deltatoken=latest, which should only give a link`,
            );
          },
        ),
      ),
    );
    const count = { changes: 0 };
    limiter.add(() =>
      this.list<DeltaObject>(
        limiter,
        longest.from(1),
        `/users?$select=${this.options.userSelect.join(',')}&$top=999`,
        page => {
          for (const o of page) state.applyUser(o);
          count.changes += page.length;
        },
      ),
    );
    limiter.add(() =>
      this.list<DeltaObject>(
        limiter,
        longest.from(1),
        `/groups?$select=${this.options.groupSelect.join(',')}&$top=999`,
        (page, depth) => {
          for (const o of page) state.applyGroup(o);
          count.changes += page.length;
          for (let i = 0; i < page.length; i += this.groupsPerMemberRead) {
            const ids = page
              .slice(i, i + this.groupsPerMemberRead)
              .map(g => g.id);
            limiter.add(() =>
              this.readMembers(limiter, longest.from(depth), ids, state, count),
            );
          }
        },
      ),
    );
    await limiter.settle();
    state.seal();
    return {
      state,
      links: { users, groups },
      full: true,
      changes: count.changes,
      sequentialRequests: longest.depth,
    };
  }

  /** The members of some groups, through `/groups/delta` scoped to their ids. */
  private async readMembers(
    limiter: TaskLimiter,
    chain: Chain,
    groupIds: string[],
    state: OrgState,
    count: { changes: number },
  ): Promise<void> {
    const filter = groupIds.map(id => `id eq '${id}'`).join(' or ');
    await this.follow(
      limiter,
      chain,
      `/groups/delta?$select=members&$filter=${encodeURIComponent(filter)}`,
      o => {
        // Only the members: the group's properties came from the list.
        if (!state.groups.has(o.id) || o['@removed']) return;
        state.applyGroup(o);
        count.changes += o['members@delta']?.length ?? 0;
      },
    );
    state.seal(groupIds);
  }

  /** Reads a collection page by page (`@odata.nextLink`), handing each page over. */
  private async list<T>(
    limiter: TaskLimiter,
    chain: Chain,
    start: string,
    onPage: (page: T[], depth: number) => void,
  ): Promise<void> {
    let url: string | undefined = start;
    let depth = chain.depth;
    while (url && !limiter.failed) {
      // Urgent: each list page names the groups whose member reads come next.
      const current = url;
      const page: ListPage<T> = await limiter.slot(
        () => this.client.get<ListPage<T>>(current),
        true,
      );
      depth += 1;
      chain.reached(depth);
      onPage(page.value, depth);
      url = page['@odata.nextLink'];
    }
  }

  /** Follows `@odata.nextLink` to the round's `@odata.deltaLink`, applying each object. */
  private async follow(
    limiter: TaskLimiter,
    chain: Chain,
    start: string,
    apply: (o: DeltaObject) => void,
  ): Promise<string> {
    let url = start;
    let depth = chain.depth;
    for (let pages = 0; ; pages++) {
      const current = url;
      // A chain that is still going after a few pages reads a big group: its next pages go
      // before chains not yet started, so the round does not end waiting on a few long chains.
      const page = await limiter.slot(
        () => this.client.get<DeltaPage>(current),
        pages >= LONG_CHAIN_PAGES,
      );
      depth += 1;
      chain.reached(depth);
      for (const o of page.value) apply(o);
      if (page['@odata.deltaLink']) return page['@odata.deltaLink'];
      if (!page['@odata.nextLink']) {
        throw new GraphRequestError(
          200,
          'noDeltaLink',
          `Graph ended a delta round at ${url} with neither @odata.nextLink nor @odata.deltaLink`,
        );
      }
      if (limiter.failed) throw new Error('round abandoned');
      url = page['@odata.nextLink'];
    }
  }
}
