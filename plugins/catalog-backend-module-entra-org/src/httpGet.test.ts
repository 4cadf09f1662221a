import http from 'node:http';
import { AddressInfo } from 'node:net';
import { httpGet } from './httpGet';

describe('httpGet', () => {
  let server: http.Server;
  let base: string;
  let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void;

  beforeAll(async () => {
    server = http.createServer((req, res) => handler(req, res));
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise(r => server.close(r));
  });

  it('gives status, headers in any case (repeated ones joined) and the JSON body', async () => {
    let seen: http.IncomingHttpHeaders = {};
    handler = (req, res) => {
      seen = req.headers;
      res.writeHead(200, [
        ['Content-Type', 'application/json'],
        ['X-Ms-Resource-Unit', '2'],
        ['Vary', 'a'],
        ['Vary', 'b'],
      ]);
      res.end(JSON.stringify({ value: [{ id: 'é' }] }));
    };
    const res = await httpGet(`${base}/v1.0/users?$top=999`, {
      authorization: 'Bearer t',
    });
    expect(seen.authorization).toBe('Bearer t');
    expect(res).toMatchObject({ status: 200, ok: true, statusText: 'OK' });
    expect(res.header('x-ms-resource-unit')).toBe('2');
    expect(res.header('X-MS-RESOURCE-UNIT')).toBe('2');
    expect(res.header('vary')).toBe('a, b');
    expect(res.header('retry-after')).toBeNull();
    expect(await res.json()).toEqual({ value: [{ id: 'é' }] });
  });

  it('fails, naming the URL, when the connection closes mid-body', async () => {
    handler = (_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': '1000',
      });
      res.write('{"value":[');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const res = await httpGet(`${base}/cut`, {});
    await expect(res.json()).rejects.toThrow(
      `${base}/cut: the connection closed mid-response`,
    );
  });

  it('fails when nothing arrives for the idle timeout, rather than waiting forever', async () => {
    handler = () => {}; // never answers
    await expect(httpGet(`${base}/silent`, {}, 200)).rejects.toThrow(
      `${base}/silent: nothing received for 200 ms`,
    );
  });

  it('a discarded body leaves the connection usable for the next request', async () => {
    let n = 0;
    handler = (_req, res) => {
      n += 1;
      res.writeHead(n === 1 ? 429 : 200, { 'retry-after': '1' });
      res.end(n === 1 ? 'x'.repeat(100_000) : '{"ok":true}');
    };
    const first = await httpGet(`${base}/a`, {});
    expect(first).toMatchObject({ status: 429, ok: false });
    expect(first.header('retry-after')).toBe('1');
    first.discard();
    const second = await httpGet(`${base}/b`, {});
    expect(await second.json()).toEqual({ ok: true });
  });
});
