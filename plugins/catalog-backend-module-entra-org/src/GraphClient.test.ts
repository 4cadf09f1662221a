import {
  defaultTenantFile,
  loadTenantFile,
  RunningEmulator,
  startEmulator,
} from '@gatehouse/entra-emulator';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { GraphClient, GraphRequestError } from './GraphClient';

const APP_ID = '3c9e1f5a-7b2d-4e8f-a1c6-0d4b5e6f7a82';

describe('GraphClient against the emulator', () => {
  let running: RunningEmulator;
  let tenantId: string;
  let clientSecret: string;
  let waits: number[];

  beforeAll(async () => {
    running = await startEmulator({
      tenants: loadTenantFile(defaultTenantFile),
      port: 0,
    });
    tenantId = [...running.emulator.tenants.keys()][0];
    clientSecret = running.emulator.addClientSecret(APP_ID).secretText;
  });
  afterAll(() => running.close());
  beforeEach(() => {
    waits = [];
    running.emulator.faults.resetCounters();
  });
  afterEach(() => {
    running.emulator.faults.configure({
      rate429: 0,
      rate503: 0,
      routes: null,
      random: null,
      budgetOverride: null,
    });
  });

  const client = () =>
    new GraphClient(
      `${running.url}/v1.0`,
      { authority: running.url, tenantId, clientId: APP_ID, clientSecret },
      {
        maxRetries: 2,
        slowdownMs: 250,
        sleep: async ms => {
          waits.push(ms);
        },
      },
    );

  it('holds back every request when the app budget is spent, only the one when a request alone was refused', async () => {
    const released: Array<() => void> = [];
    const blocking = () =>
      new GraphClient(
        `${running.url}/v1.0`,
        { authority: running.url, tenantId, clientId: APP_ID, clientSecret },
        {
          maxRetries: 2,
          sleep: ms => {
            waits.push(ms);
            return new Promise<void>(r => released.push(r));
          },
        },
      );
    const settled = <T>(p: Promise<T>) => {
      let done = false;
      p.then(() => (done = true));
      return () => done;
    };
    const flush = () => new Promise(r => setTimeout(r, 100));

    // An injected 429 (no throttle scope): the other request goes on while this one waits.
    let calls = 0;
    running.emulator.faults.configure({
      rate429: 0.5,
      retryAfterSeconds: 1,
      routes: '^GET /organization$',
      random: () => (calls++ === 0 ? 0 : 0.9),
    });
    const c = blocking();
    const refused = settled(c.get('/organization'));
    await flush();
    expect(waits).toEqual([1000]);
    await c.get('/organization');
    expect(refused()).toBe(false);
    released.shift()!();
    await flush();
    expect(refused()).toBe(true);

    // The budget spent (429 with x-ms-throttle-scope): a request sent after it waits too.
    waits = [];
    running.emulator.faults.configure({
      rate429: 0,
      routes: null,
      random: null,
      budgetOverride: 1,
    });
    running.emulator.faults.resetCounters();
    const d = blocking();
    await d.get('/organization');
    const throttled = settled(d.get('/organization'));
    await flush();
    expect(waits).toHaveLength(1);
    const after = settled(d.get('/organization'));
    await flush();
    expect(after()).toBe(false);
    running.emulator.faults.configure({ budgetOverride: null });
    released.shift()!();
    await flush();
    expect(throttled()).toBe(true);
    expect(after()).toBe(true);
  });

  it('waits out a 429 as long as Retry-After says and counts it', async () => {
    let calls = 0;
    running.emulator.faults.configure({
      rate429: 0.5,
      retryAfterSeconds: 2,
      routes: '^GET /organization$',
      random: () => (calls++ === 0 ? 0 : 0.9),
    });
    const c = client();
    const page = await c.get<{ value: unknown[] }>('/organization');
    expect(page.value).toHaveLength(1);
    expect(waits).toEqual([2000]);
    expect(c.stats).toEqual({ requests: 2, resourceUnits: 1, throttled: 1 });
    expect(
      running.emulator.faults.snapshot()['GET /organization'].statuses,
    ).toEqual({ 429: 1, 200: 1 });
  });

  it('gives up after its retries with the Graph error', async () => {
    running.emulator.faults.configure({
      rate503: 1,
      retryAfterSeconds: 0,
      routes: '^GET /organization$',
    });
    const c = client();
    const error = await c.get('/organization').catch(e => e);
    expect(error).toBeInstanceOf(GraphRequestError);
    expect(error).toMatchObject({ status: 503, code: 'ServiceUnavailable' });
    expect(c.stats.requests).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it('sums resource units and slows down once more than 95% of the budget is used', async () => {
    // 20 RU per 10 s: each /users request (2 RU) takes 10% of it.
    running.emulator.faults.configure({ budgetOverride: 20 });
    const c = client();
    for (let i = 0; i < 9; i++) await c.get('/users');
    // 90% used: Graph says so (past 80%), but there is no need to slow down yet.
    expect(waits).toEqual([]);
    await c.get('/users'); // 100%
    expect(waits).toEqual([]);
    await c.get('/users').catch(() => undefined);
    // The pause came before the 11th request, which Graph then throttled.
    expect(waits[0]).toBe(250);
    expect(c.stats.resourceUnits).toBe(20);
    expect(c.stats.throttled).toBeGreaterThan(0);
  });

  it('pauses longer the nearer the budget is spent', async () => {
    // 100 RU per 10 s: each /users request (2 RU) takes 2% of it.
    running.emulator.faults.configure({ budgetOverride: 100 });
    const c = client();
    for (let i = 0; i < 47; i++) await c.get('/users'); // 94% used
    await c.get('/users'); // 96%
    expect(waits).toEqual([]);
    await c.get('/users'); // waited: 96% is a fifth of the way from 95% to 100%; now 98%
    expect(waits).toEqual([50]);
    await c.get('/users'); // waited three fifths of slowdownMs
    expect(waits).toEqual([50, 150]);
    expect(c.stats.throttled).toBe(0);
  });
});

describe('GraphClient when the connection fails', () => {
  let server: http.Server;
  let base: string;
  let answers: Array<
    (req: http.IncomingMessage, res: http.ServerResponse) => void
  >;
  let served: number;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      served += 1;
      (answers.shift() ?? ((_q, r) => r.socket?.destroy()))(req, res);
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1.0`;
  });
  beforeEach(() => {
    served = 0;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise(r => server.close(r));
  });

  const waits: number[] = [];
  const client = () =>
    new GraphClient(
      base,
      {
        tenantId: 'contoso',
        credential: {
          getToken: async () => ({
            token: 'token',
            expiresOnTimestamp: Date.now() + 3600_000,
          }),
        },
      },
      { maxRetries: 2, sleep: async ms => void waits.push(ms) },
    );
  const reset = (_req: http.IncomingMessage, res: http.ServerResponse) =>
    res.socket?.destroy();
  const cutMidBody = (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('{"value":[');
    setTimeout(() => res.socket?.destroy(), 10);
  };
  const ok = (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"value":[{"id":"u1"}]}');
  };

  it('sends the GET again after a reset connection and a body cut short', async () => {
    answers = [reset, cutMidBody, ok];
    const c = client();
    await expect(c.get('/users')).resolves.toEqual({ value: [{ id: 'u1' }] });
    expect(served).toBe(3);
    expect(c.stats.requests).toBe(3);
  });

  it('gives up after maxRetries with an error that names the URL', async () => {
    answers = [reset, reset, reset, ok];
    const attempt = client().get('/users');
    await expect(attempt).rejects.toBeInstanceOf(GraphRequestError);
    await expect(attempt).rejects.toThrow(
      new RegExp(`^Graph ${base}/users failed after 3 attempts: `),
    );
    expect(served).toBe(3);
  });
});
