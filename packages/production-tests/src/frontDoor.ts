import http from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * The load balancer in front of the replicas, as Container Apps' ingress is: one address
 * (APP_BASE_URL of every replica), each request sent to the replica `pick()` names.
 */
export interface FrontDoor {
  url: string;
  /** Sends the following requests to this replica (its direct base URL). */
  routeTo(baseUrl: string): void;
  close(): Promise<void>;
}

/** Starts a forwarding proxy on a free loopback port. */
export async function startFrontDoor(): Promise<FrontDoor> {
  let target: URL | undefined;
  const server = http.createServer((req, res) => {
    if (!target) {
      res.writeHead(503).end('no replica');
      return;
    }
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: target.port,
        method: req.method,
        path: req.url,
        // The Host header stays the front door's, as behind a real ingress.
        headers: req.headers,
      },
      answer => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', e => res.writeHead(502).end(String(e)));
    req.pipe(upstream);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    routeTo(baseUrl) {
      target = new URL(baseUrl);
    },
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
