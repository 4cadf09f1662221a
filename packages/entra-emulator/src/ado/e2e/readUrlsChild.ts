import { UrlReaders } from '@backstage/backend-defaults/urlReader';
import { ConfigReader } from '@backstage/config';
const cfg = JSON.parse(process.env.CHILD_CONFIG!);
(async () => {
  const logger: any = { info() {}, warn() {}, error() {}, debug() {}, child() { return logger; } };
  const reader = UrlReaders.default({ config: new ConfigReader(cfg.config), logger });
  for (const url of cfg.urls) {
    try {
      const r = await reader.readUrl(url);
      console.log(JSON.stringify({ url, ok: true, text: (await r.buffer()).toString() }));
    } catch (e) {
      console.log(JSON.stringify({ url, ok: false, error: String(e) }));
    }
  }
})();
