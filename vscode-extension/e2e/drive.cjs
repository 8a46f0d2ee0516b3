// Drives the real VS Code workbench (code-server) in headless Chromium with
// playwright-core, as a user would: palette, pickers, Problems panel,
// notifications. Started by lsp/e2e TestVSCode, which owns the workspace,
// the scripted model server and the checks on disk; this script reports
// what the workbench showed as JSON (R2C_RESULT) and keeps a screenshot of
// each step in R2C_ARTIFACTS.
//
// Environment: R2C_URL (the workbench with ?folder=), R2C_RESULT,
// R2C_ARTIFACTS, CHROMIUM, NODE_PATH (code-server's install, where
// playwright-core is).
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const result = { steps: [], sections: [], syntax_rows: [] };
const artifacts = process.env.R2C_ARTIFACTS;
let page;
let shot = 0;

function log(msg) {
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

async function screenshot(name) {
  shot++;
  const file = path.join(artifacts, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

async function step(name, fn) {
  log(`step: ${name}`);
  await fn();
  result.steps.push(name);
  await screenshot(name);
}

/** Opens the command palette, types text and clicks the row that matches. */
async function palette(text, row) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 20000 });
  await input.fill('>' + text);
  await pickRow(row ?? text);
}

/** Clicks the quick-input row containing text (pressing Enter is unreliable). */
async function pickRow(text, timeout = 30000) {
  const r = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: text }).first();
  await r.waitFor({ state: 'visible', timeout });
  await r.click();
}

async function quickInputRows() {
  const rows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
  await rows.first().waitFor({ state: 'visible', timeout: 60000 });
  return rows.allInnerTexts();
}

async function statusText() {
  const item = page.locator('.statusbar-item', { hasText: 'r2c' }).first();
  return (await item.innerText()).trim();
}

async function waitStatus(pred, what, timeout = 60000) {
  const end = Date.now() + timeout;
  let last = '';
  while (Date.now() < end) {
    try {
      last = await statusText();
      if (pred(last)) {
        return last;
      }
    } catch {
      // not there yet
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`status bar never showed ${what} (last: ${JSON.stringify(last)})`);
}

/** Waits for a notification whose text matches re and returns that text. */
async function notification(re, timeout) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    const texts = await page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
    const hit = texts.find((t) => re.test(t));
    if (hit) {
      return hit;
    }
    // An error notification ends the wait at once, with its text.
    const errors = await page.locator('.notifications-toasts .notification-list-item:has(.codicon-error) .notification-list-item-message').allInnerTexts();
    if (errors.length > 0) {
      throw new Error(`error notification instead of ${re}: ${errors.join(' | ')}`);
    }
    await page.waitForTimeout(300);
  }
  throw new Error(`no notification matching ${re} within ${timeout / 1000}s`);
}

async function clearNotifications() {
  await palette('Notifications: Clear All Notifications').catch(() => {});
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  try {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await ctx.newPage();
    page.setDefaultTimeout(30000);
    await page.goto(process.env.R2C_URL);

    await step('server-started', async () => {
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 120000 });
      // The extension activates on Python, Markdown or r2c.toml.
      result.status = await waitStatus((s) => s.includes('r2c: scripted-model'), 'the running server', 120000);
    });

    await step('syntax-error-once', async () => {
      await page.keyboard.press('Control+P');
      await page.locator('.quick-input-widget .quick-input-box input').fill('bad.py');
      await pickRow('bad.py');
      // Validating adds CPython's verdict on the same error: still one row.
      await palette('r2c: Validate Module');
      await notification(/bad\.py failed/, 60000);
      await palette('View: Focus Problems', 'Focus on Problems View');
      const rows = page.locator('.markers-panel .monaco-list-row', { hasText: /syntax/i });
      await rows.first().waitFor({ state: 'visible', timeout: 60000 });
      await page.waitForTimeout(1500); // a second copy would have arrived by now
      result.syntax_rows = await rows.allInnerTexts();
    });

    await step('pick-paper', async () => {
      await palette('r2c: Implement Paper Section');
      await pickRow('attention.md');
    });

    await step('pick-section', async () => {
      result.sections = await quickInputRows();
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await input.fill('Scaled');
      await pickRow('3.2 Scaled Dot-Product Attention');
    });

    await step('pick-folder', async () => {
      await pickRow('scaled_dot_product_attention');
    });

    await step('implemented', async () => {
      result.implement_note = await notification(/r2c: passed: \d+ files/, 240000);
      const tab = page.locator('.tabs-container .tab.active .label-name');
      const end = Date.now() + 30000;
      while (Date.now() < end) {
        result.opened_editor = (await tab.innerText().catch(() => '')).trim();
        if (result.opened_editor === 'attention.py') {
          break;
        }
        await page.waitForTimeout(250);
      }
    });

    await step('validated', async () => {
      await clearNotifications();
      await palette('r2c: Validate Module');
      result.validate_note = await notification(/tests passed/, 120000);
    });

    await step('restarted', async () => {
      await palette('r2c: Restart Server');
      await page.waitForTimeout(500);
      result.restarted = await waitStatus((s) => s.includes('r2c: scripted-model'), 'the server back after the restart');
    });

    await step('run-log', async () => {
      await page.locator('.statusbar-item', { hasText: 'r2c' }).first().click();
      // Room for the whole log: the output editor renders visible lines only.
      await palette('View: Toggle Maximized Panel');
      const out = page.locator('.part.panel .view-lines');
      await out.first().waitFor({ state: 'visible' });
      await page.waitForTimeout(1000);
      // The top and the bottom of the log: between them they hold it all.
      await out.first().click();
      const parts = [];
      for (const key of ['Control+Home', 'Control+End']) {
        await page.keyboard.press(key);
        await page.waitForTimeout(500);
        parts.push((await out.first().innerText()).replace(/\u00a0/g, ' '));
      }
      result.run_log = parts.join('\n');
    });
  } finally {
    await browser.close();
  }
}

main()
  .catch(async (err) => {
    result.error = String(err && err.stack ? err.stack.split('\n')[0] : err);
    log(`failed: ${result.error}`);
    if (page) {
      await screenshot('failure').catch(() => {});
    }
  })
  .finally(() => {
    fs.writeFileSync(process.env.R2C_RESULT, JSON.stringify(result, null, 2));
  });
