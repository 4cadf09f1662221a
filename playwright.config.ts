import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests against the portal as `yarn start` runs it (frontend dev server on :3000,
 * backend on :7007, built-in emulator on :7100), in Debian's Chromium: Playwright never
 * downloads a browser here. Set CHROMIUM_PATH to use another Chromium.
 */
export default defineConfig({
  testDir: 'e2e-tests',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  reporter: [['list'], ['json', { outputFile: 'test-reports/e2e.json' }]],
  outputDir: 'test-results',
  webServer: {
    command: 'yarn start',
    url: 'http://localhost:3000',
    reuseExistingServer: !process.env.CI,
    timeout: 300_000,
    stdout: 'pipe',
    // Short-lived Entra tokens, so a test can see a session outlive them (refresh).
    env: { APP_CONFIG_gatehouse_emulator_tokenLifetimeSeconds: '20' },
  },
  use: {
    baseURL: 'http://localhost:3000',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
      ],
    },
  },
});
