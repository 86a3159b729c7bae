// Shared fixtures and helpers for the Convergence browser tests.
import { test as base, expect, type BrowserContext, type Page, type Response } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

export { expect };

export interface DemoUser {
  email: string;
  password: string;
  name: string;
}

/** Demo accounts created by CONVERGENCE_DEMO_DATA=1. */
export const USERS = {
  admin: { email: 'admin@convergence.test', password: 'admin-password-1', name: 'Admin' },
  support: { email: 'support@convergence.test', password: 'support-password-1', name: 'Sam Support' },
  support2: { email: 'support2@convergence.test', password: 'support-password-2', name: 'Alex Agent' },
  marketing: { email: 'marketing@convergence.test', password: 'marketing-password-1', name: 'Morgan Marketing' },
} satisfies Record<string, DemoUser>;

/** data-channel value -> the channel's display name (icon aria-label, badge text). */
export const CHANNEL_LABELS: Record<string, string> = {
  email: 'Email',
  sms: 'SMS',
  whatsapp: 'WhatsApp',
  messenger: 'Messenger',
  instagram: 'Instagram',
  telegram: 'Telegram',
};

export const ORIGIN = 'http://127.0.0.1:3000';

/**
 * Runs in every page before its scripts: marks the window once the wasm bundle has been
 * instantiated and the task that called `hydrate()` has finished (HydrationScripts does
 * `mod.default(...).then(() => mod.hydrate())`, all in microtasks after instantiation).
 */
const HYDRATION_PROBE = `(() => {
  const w = window;
  w.__e2eHydrated = false;
  for (const name of ['instantiateStreaming', 'instantiate']) {
    const orig = WebAssembly[name];
    if (typeof orig !== 'function') continue;
    WebAssembly[name] = function (...args) {
      const p = orig.apply(this, args);
      p.then(() => setTimeout(() => { w.__e2eHydrated = true; }, 0), () => {});
      return p;
    };
  }
})();`;

export async function installHydrationProbe(context: BrowserContext): Promise<void> {
  await context.addInitScript(HYDRATION_PROBE);
}

export const test = base.extend({
  context: async ({ context }, use) => {
    await installHydrationProbe(context);
    await use(context);
  },
});

export function jsEnabled(): boolean {
  return test.info().project.use.javaScriptEnabled !== false;
}

/** Waits until the wasm bundle is instantiated and hydrate() has run on the current document. */
export async function waitForHydration(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as unknown as { __e2eHydrated?: boolean }).__e2eHydrated === true, null, {
    timeout: 30_000,
  });
}

const isEventStream = (r: Response) => new URL(r.url()).pathname === '/api/events';

/**
 * Every signed-in page opens an EventSource on /api/events once hydrated; its response means the
 * page is interactive and receives live updates.
 */
export function waitForLiveStream(page: Page): Promise<Response> {
  return page.waitForResponse(isEventStream, { timeout: 30_000 });
}

/** Navigates to a signed-in page and (with JavaScript) waits until it is hydrated and live. */
export async function gotoApp(page: Page, url: string): Promise<void> {
  if (!jsEnabled()) {
    await page.goto(url);
    return;
  }
  const live = waitForLiveStream(page);
  await page.goto(url);
  await live;
  await waitForHydration(page);
}

/** Signs in through the /login form and waits for the inbox. */
export async function login(page: Page, user: DemoUser): Promise<void> {
  const js = jsEnabled();
  await page.goto('/login');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  if (js) await waitForHydration(page);
  await page.getByLabel('Email', { exact: true }).fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  const live = js ? waitForLiveStream(page) : null;
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/inbox(?:[/?#]|$)/, { timeout: 15_000 });
  if (live) {
    await live;
    await waitForHydration(page);
  }
}

export function conversationList(page: Page) {
  return page.getByRole('navigation', { name: 'Conversations' });
}

export function timeline(page: Page) {
  return page.getByRole('region', { name: 'Timeline' });
}

/** Distinct values of an attribute over the elements a locator matches. */
export async function distinctAttr(locator: ReturnType<Page['locator']>, attr: string): Promise<string[]> {
  const values = await locator.evaluateAll(
    (els, a) => els.map((e) => e.getAttribute(a as string)).filter((v): v is string => !!v),
    attr,
  );
  return [...new Set(values)].sort();
}

const SCREENSHOT_DIR = path.join(__dirname, '..', 'screenshots');

/** Full-page screenshot into end2end/screenshots/<project>-<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${test.info().project.name}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** A short random suffix for names and texts that must be unique in this run. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

export function randomPhone(): string {
  let digits = '';
  for (let i = 0; i < 7; i++) digits += Math.floor(Math.random() * 10).toString();
  return `+1555${digits}`;
}
