import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

/**
 * instrumentation.js as production loads it: `node --require` in a child process, exporting
 * to a receiver on a loopback port (an OTLP collector, or Azure Monitor's ingestion endpoint).
 */
const instrumentation = path.resolve(__dirname, 'instrumentation.js');

/** In the child: a metric, an outbound HTTP request (a span), then SIGTERM to flush. */
// The interval keeps the child alive until SIGTERM is handled, as a backend's server does:
// a signal is delivered asynchronously, and a process with nothing left to do would exit
// before its handler runs.
const childScript = `
setInterval(() => {}, 1000);
const { metrics } = require('@opentelemetry/api');
const http = require(process.env.PING_URL.startsWith('https') ? 'node:https' : 'node:http');
console.log('provider=' + metrics.getMeterProvider().constructor.name);
metrics.getMeter('gatehouse-test').createCounter('gatehouse.test.pings').add(3);
http.get(process.env.PING_URL, res => {
  res.resume();
  res.on('end', () => process.kill(process.pid, 'SIGTERM'));
}).on('error', () => process.kill(process.pid, 'SIGTERM'));
`;

interface Received {
  method: string;
  url: string;
  body: string;
}

describe('instrumentation.js', () => {
  let server: http.Server | https.Server;
  let base: string;
  let received: Received[];
  let tmp: string;

  /** A receiver on a loopback port; Azure Monitor's exporter insists on HTTPS. */
  async function startReceiver(tls?: { key: Buffer; cert: Buffer }) {
    received = [];
    const handler: http.RequestListener = (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', c => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') {
          body = zlib.gunzipSync(body);
        }
        received.push({
          method: req.method!,
          url: req.url!,
          body: body.toString('utf8'),
        });
        res.setHeader('content-type', 'application/json');
        res.end(
          req.url?.startsWith('/v2')
            ? JSON.stringify({ itemsReceived: 1, itemsAccepted: 1, errors: [] })
            : '{}',
        );
      });
    };
    server = tls
      ? https.createServer(tls, handler)
      : http.createServer(handler);
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    base = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-otel-'));
  });

  afterAll(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  afterEach(async () => {
    await new Promise(r => server.close(r));
  });

  function runChild(env: Record<string, string>) {
    return new Promise<{ code: number | null; stdout: string }>(resolve => {
      const clean = Object.fromEntries(
        Object.entries(process.env).filter(
          ([k]) =>
            !k.startsWith('OTEL_') &&
            k !== 'APPLICATIONINSIGHTS_CONNECTION_STRING',
        ),
      );
      const child = execFile(
        process.execPath,
        ['--require', instrumentation, '-e', childScript],
        {
          cwd: path.resolve(__dirname, '..'),
          env: { ...clean, PING_URL: `${base}/ping`, ...env },
        },
        (_error, stdout) => resolve({ code: child.exitCode, stdout }),
      );
    });
  }

  it('exports nothing and starts no SDK when no exporter is configured', async () => {
    await startReceiver();
    const { stdout } = await runChild({});
    expect(stdout).toContain('provider=NoopMeterProvider');
    expect(received.map(r => r.url)).toEqual(['/ping']);
  });

  it('exports metrics and HTTP spans over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
    await startReceiver();
    const { stdout, code } = await runChild({
      OTEL_EXPORTER_OTLP_ENDPOINT: base,
      OTEL_SERVICE_NAME: 'gatehouse-under-test',
    });
    expect(stdout).toContain('provider=MeterProvider');
    // The SIGTERM handler flushed and, with no other handler, ended the process.
    expect(code).toBe(143);
    const metricsPost = received.find(r => r.url === '/v1/metrics');
    expect(metricsPost?.method).toBe('POST');
    expect(metricsPost?.body).toContain('gatehouse.test.pings');
    expect(metricsPost?.body).toContain('gatehouse-under-test');
    const tracesPost = received.find(r => r.url === '/v1/traces');
    expect(tracesPost?.body).toContain('"kind":3'); // a CLIENT span: the GET /ping
  });

  it('exports to Azure Monitor when APPLICATIONINSIGHTS_CONNECTION_STRING is set', async () => {
    // A throwaway certificate for 127.0.0.1, trusted by the child only.
    const key = path.join(tmp, 'key.pem');
    const cert = path.join(tmp, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    await startReceiver({
      key: fs.readFileSync(key),
      cert: fs.readFileSync(cert),
    });
    const { stdout } = await runChild({
      NODE_EXTRA_CA_CERTS: cert,
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=${base}/`,
      // The ping goes to the same HTTPS receiver.
      PING_URL: `${base}/ping`,
      // Both are set: Azure Monitor wins, nothing goes to the OTLP endpoint.
      OTEL_EXPORTER_OTLP_ENDPOINT: `${base}/otlp`,
      // The exporter's own usage reports go to Microsoft's hosts, which a test (loopback
      // only) cannot reach and must not wait for.
      APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
      APPLICATIONINSIGHTS_SDKSTATS_DISABLED: 'true',
    });
    expect(stdout).toContain('provider=MeterProvider');
    const track = received.filter(r => r.url.startsWith('/v2'));
    expect(track.length).toBeGreaterThan(0);
    const bodies = track.map(r => r.body).join('\n');
    expect(bodies).toContain('00000000-0000-0000-0000-000000000001');
    expect(bodies).toContain('gatehouse.test.pings');
    expect(received.some(r => r.url.startsWith('/otlp'))).toBe(false);
  });
});
