import http from 'node:http';
import https from 'node:https';

/** What the Graph client reads of a response. */
export interface GetResponse {
  status: number;
  statusText: string;
  ok: boolean;
  /** A header's value (names in any case), as `Headers.get` gives it. */
  header(name: string): string | null;
  /** The body as bytes (read once). */
  body(): Promise<Buffer>;
  json<T>(): Promise<T>;
  /** Drops the body unread. */
  discard(): void;
}

/** Time a request may go without a byte in either direction before it fails. */
const IDLE_TIMEOUT_MS = 120_000;

/**
 * A GET through Node's `http`/`https` and their global agents (keep-alive; proxies set up
 * for them apply). A sync round sends thousands of these at 64 in flight, and `fetch`
 * costs several times the memory of a plain request per response (its streams and
 * `Response` objects live long enough to reach the old generation).
 */
export function httpGet(
  url: string,
  headers: Record<string, string>,
  idleTimeoutMs: number = IDLE_TIMEOUT_MS,
): Promise<GetResponse> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.get(target, { headers }, res => {
      const status = res.statusCode ?? 0;
      // An error before the body is read (or after it is discarded) must not end the
      // process: reading the body then fails, as the response closes incomplete.
      res.on('error', () => {});
      let read: Promise<Buffer> | undefined;
      const body = () => {
        read ??= new Promise<Buffer>((done, fail) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done(Buffer.concat(chunks)));
          res.on('close', () => {
            if (!res.complete)
              fail(new Error(`${url}: the connection closed mid-response`));
          });
        });
        return read;
      };
      resolve({
        status,
        statusText: res.statusMessage ?? '',
        ok: status >= 200 && status < 300,
        header(name) {
          const value = res.headers[name.toLowerCase()];
          if (value === undefined) return null;
          return Array.isArray(value) ? value.join(', ') : value;
        },
        body,
        async json<T>() {
          return JSON.parse((await body()).toString('utf8')) as T;
        },
        discard() {
          if (!read) res.resume();
        },
      });
    });
    req.setTimeout(idleTimeoutMs, () =>
      req.destroy(
        new Error(`${url}: nothing received for ${idleTimeoutMs} ms`),
      ),
    );
    req.on('error', reject);
  });
}
