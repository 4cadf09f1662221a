import {
  ProductionEnvironment,
  startProductionEnvironment,
} from './environment';
import { FrontDoor, startFrontDoor } from './frontDoor';
import { ProductionBackend } from './productionBackend';
import { signIn, signInOnceSynced } from './signIn';

jest.setTimeout(240_000);

const FREQUENCY_SECONDS = 3;
const ROUNDS = 5;

interface Round {
  replica: string;
  startedAt: number;
  finishedAt: number;
}

describe('two production backends on one Postgres', () => {
  let env: ProductionEnvironment;
  let a: ProductionBackend;
  let b: ProductionBackend;
  let door: FrontDoor;

  beforeAll(async () => {
    env = await startProductionEnvironment();
    // Both replicas behind one address, as behind Container Apps' ingress.
    door = await startFrontDoor();
    const replica = {
      orgSyncFrequencySeconds: FREQUENCY_SECONDS,
      env: { APP_BASE_URL: door.url },
    };
    // One after the other, as a rolling deployment does: the first creates the databases.
    a = await env.startBackend(replica);
    b = await env.startBackend(replica);
  });

  afterAll(async () => {
    await env?.stop();
    await door?.close();
  });

  it('a sign-in on replica A gives a token B accepts, and B refreshes it with A’s cookie', async () => {
    door.routeTo(a.baseUrl);
    const alex = await signInOnceSynced(
      door.url,
      env.userId('alex.wilber@contoso.example'),
    );

    door.routeTo(b.baseUrl);
    const onB = await fetch(
      `${door.url}/api/catalog/entities/by-name/user/default/alex.wilber`,
      { headers: { authorization: `Bearer ${alex.token}` } },
    );
    expect(onB.status).toBe(200);

    const refreshed = await fetch(
      `${door.url}/api/auth/microsoft/refresh?optional&env=production`,
      {
        headers: {
          cookie: alex.refreshCookie,
          'x-requested-with': 'XMLHttpRequest',
        },
      },
    );
    expect(refreshed.status).toBe(200);
    const session = (await refreshed.json()) as any;
    expect(session.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/alex.wilber',
    );
    // B's new token works on A.
    door.routeTo(a.baseUrl);
    const onA = await fetch(`${door.url}/api/entra-org/status`, {
      headers: { authorization: `Bearer ${session.backstageIdentity.token}` },
    });
    expect(onA.status).toBe(200);
  });

  it('a sign-in started on replica A finishes on replica B', async () => {
    // Both replicas have the same AUTH_STATE_SECRET: B derives the PKCE verifier and the
    // nonce A sent to Entra from the state Entra hands back.
    door.routeTo(a.baseUrl);
    const lee = await signIn(door.url, env.userId('lee.gu@contoso.example'), {
      beforeCallback: () => door.routeTo(b.baseUrl),
    });
    expect(lee.userEntityRef).toBe('user:default/lee.gu');
    const me = await fetch(
      `${b.baseUrl}/api/catalog/entities/by-name/user/default/lee.gu`,
      { headers: { authorization: `Bearer ${lee.token}` } },
    );
    expect(me.status).toBe(200);
  });

  it('runs one org-sync round per interval across both replicas, not one each', async () => {
    door.routeTo(a.baseUrl);
    const alex = await signIn(
      door.url,
      env.userId('alex.wilber@contoso.example'),
    );
    // Each replica's status shows the rounds it ran itself.
    const rounds = new Map<string, Round>();
    const poll = async (name: string, backend: ProductionBackend) => {
      const res = await fetch(`${backend.baseUrl}/api/entra-org/status`, {
        headers: { authorization: `Bearer ${alex.token}` },
      });
      const { providers } = (await res.json()) as any;
      expect(providers.map((p: any) => p.id)).toEqual(['default']);
      const last = providers[0].lastRound;
      if (last) {
        rounds.set(`${name} ${last.startedAt}`, {
          replica: name,
          startedAt: Date.parse(last.startedAt),
          finishedAt: Date.parse(last.finishedAt),
        });
      }
    };
    while (rounds.size < ROUNDS) {
      await Promise.all([poll('A', a), poll('B', b)]);
      await new Promise(r => setTimeout(r, 200));
    }
    const sorted = [...rounds.values()].sort(
      (x, y) => x.startedAt - y.startedAt,
    );
    // Rounds never overlap: a round starts after the one before it finished, whichever
    // replica ran it.
    for (let i = 1; i < sorted.length; i++) {
      expect(sorted[i].startedAt).toBeGreaterThanOrEqual(
        sorted[i - 1].finishedAt,
      );
    }
    // One round per interval: the scheduler plans each round at least one interval after the
    // plan of the one before, and a round starts at most one work check (the interval here)
    // after its plan, so n rounds span at least (n - 2) intervals. Two replicas keeping a
    // schedule each would fit about two rounds into every interval.
    const span = sorted[sorted.length - 1].startedAt - sorted[0].startedAt;
    expect(span).toBeGreaterThanOrEqual(
      (sorted.length - 2) * FREQUENCY_SECONDS * 1000 - 500,
    );
  });
});
