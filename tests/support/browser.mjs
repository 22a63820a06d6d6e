// Headless Debian Chromium through playwright-core (no downloaded browser; TOOLCHAIN.md §7).
//
//   const browser = await launchBrowser();
//   const tab = await browser.open(srv.url + '/test.html');   // waits for window.ready
//   await tab.page.evaluate(...); tab.console; tab.errors;
//   await tab.close(); await browser.close();
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launches Chromium; `open(url)` gives a page in its own context with its console collected. */
export async function launchBrowser() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });

  async function open(url, { waitForReady = true, readyTimeoutMs = 15000 } = {}) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const logs = [];     // { type, text }
    const errors = [];   // uncaught page errors (messages)
    page.on('console', (msg) => {
      const entry = { type: msg.type(), text: msg.text() };
      logs.push(entry);
      process.stderr.write(`[page console.${entry.type}] ${entry.text}\n`);
    });
    page.on('pageerror', (err) => {
      errors.push(String(err && err.stack || err));
      process.stderr.write(`[page error] ${err && err.stack || err}\n`);
    });
    await page.goto(url);
    if (waitForReady) {
      await page.waitForFunction(() => window.ready === true || typeof window.initError === 'string',
        null, { timeout: readyTimeoutMs });
      const initError = await page.evaluate(() => window.initError);
      if (initError) throw new Error(`the test page failed to load freshtoken: ${initError}`);
    }
    return {
      page,
      console: logs,
      errors,
      /** All console text so far, one string (for "does not contain" checks). */
      consoleText: () => logs.map((c) => c.text).join('\n'),
      close: () => context.close(),
    };
  }

  return { browser, open, close: () => browser.close() };
}
