/*
 * Run by credentials.test.ts in a process of its own (node --require hostRoutingPreload):
 * Backstage's own UrlReader reads each URL of GATEHOUSE_CHILD_INPUT with the config given
 * there. After each read it prints one JSON line and waits for a line on stdin, so the test
 * can change the emulator (move its clock) between two reads.
 */
import { UrlReaders } from '@backstage/backend-defaults/urlReader';
import { ConfigReader } from '@backstage/config';
import { createInterface } from 'node:readline';

const input = JSON.parse(process.env.GATEHOUSE_CHILD_INPUT ?? '{}') as {
  config: object;
  urls: string[];
};

type Logger = Parameters<typeof UrlReaders.default>[0]['logger'];
const logger: Logger = {
  info: () => {},
  warn: () => {},
  error: () => {},
  debug: () => {},
  child: () => logger,
};

async function main() {
  const lines = createInterface({ input: process.stdin })[
    Symbol.asyncIterator
  ]();
  const reader = UrlReaders.default({
    config: new ConfigReader(input.config),
    logger,
  });
  for (const url of input.urls) {
    let result: object;
    try {
      const response = await reader.readUrl(url);
      result = { url, ok: true, text: (await response.buffer()).toString() };
    } catch (e) {
      result = { url, ok: false, error: (e as Error).message };
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
    await lines.next();
  }
  process.exit(0);
}

main().catch(e => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
