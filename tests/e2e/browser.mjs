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

// The pages of one test file, each in a context of its own (no shared storage
// between two signed-in agents). A page records the errors it logged
// (`page.errors`) and the native dialogs it opened (`page.dialogs`, dismissed;
// with nativeDialogsAreErrors they count as errors too: the console has its
// own dialogs). closeAll() after each test.
export function pageSet() {
  let contexts = [];
  return {
    async open(browser, { nativeDialogsAreErrors = false } = {}) {
      const context = await browser.newContext();
      contexts.push(context);
      const page = await context.newPage();
      page.errors = [];
      page.dialogs = [];
      page.on('pageerror', (e) => page.errors.push(String(e)));
      page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
      page.on('dialog', (d) => {
        page.dialogs.push(d.message());
        if (nativeDialogsAreErrors) page.errors.push(`native dialog: ${d.message()}`);
        d.dismiss().catch(() => {});
      });
      return page;
    },
    async closeAll() {
      await Promise.all(contexts.map((c) => c.close().catch(() => {})));
      contexts = [];
    },
  };
}

// Errors the console itself logged (a refused WebSocket while a server is
// down is expected and left out).
export const consoleErrors = (page) =>
  page.errors.filter((e) => !/WebSocket connection|ERR_CONNECTION_REFUSED|Failed to load resource/.test(e));
