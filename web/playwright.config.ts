import { defineConfig } from '@playwright/test';

// One real node for the whole run, started by tests/global-setup.ts. Ports are fixed
// here (the config is evaluated in every worker; the env var keeps them identical).
process.env.KIZUNA_TEST_PORT ||= String(21000 + Math.floor(Math.random() * 10000)); // below Linux's ephemeral ports and clear of pytest's nodes (10000-20999, tests/nodes.py)
const port = Number(process.env.KIZUNA_TEST_PORT);
process.env.KIZUNA_TEST_COT_PORT ||= String(port + 2);

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  testDir: './tests',
  globalSetup: './tests/global-setup.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  outputDir: './test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1600, height: 950 },
    browserName: 'chromium',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
