// Shared helper: launch the system (Debian) Chromium through playwright-core.
// Never downloads a browser. Used by the console and widget e2e tests.
//
//   import { launchBrowser } from './browser.mjs';
//   const browser = await launchBrowser();
//   ... await browser.close();
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/** @returns {Promise<import('playwright-core').Browser>} */
export async function launchBrowser(options = {}) {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
    ...options,
  });
}
