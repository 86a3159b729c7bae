// Shared fixtures and helpers for the Convergence browser tests.
import { test as base, expect, type BrowserContext, type Page, type Response } from '@playwright/test';
import * as crypto from 'crypto';
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
  chat: 'Website chat',
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

const DOCS_SCREENSHOTS = path.resolve(__dirname, '../../docs/screenshots');

/** Copies a screenshot into docs/screenshots/ under `name`, only when asked with
 * E2E_PUBLISH_SCREENSHOTS=1 (`make screenshots`): running the tests must not change tracked
 * files. */
export function publish(file: string, name: string): void {
  if (process.env.E2E_PUBLISH_SCREENSHOTS !== '1') return;
  fs.mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
  fs.copyFileSync(file, path.join(DOCS_SCREENSHOTS, name));
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

// ---- The customer's side, for specs that need mail in and texts in (cross-channel.spec.ts). ----
// The mail servers and the provider stand-in are started by scripts/e2e-server.sh.

/** The support mailbox the app reads (IMAP) and the SMTP server that delivers into it. */
export const SUPPORT_MAILBOX = 'support@shop.test';
const E2E_DIR = path.resolve(__dirname, '../../target/e2e');
const SMTP_PORT = 3025;

/** Submits one message (headers and body, `\n` line ends) to the test SMTP server. */
export async function smtpSend(from: string, to: string, message: string): Promise<void> {
  const net = await import('net');
  const sock = net.createConnection(SMTP_PORT, '127.0.0.1');
  sock.setEncoding('utf8');
  let buffer = '';
  const waiters: Array<(line: string) => void> = [];
  sock.on('data', (chunk: string) => {
    buffer += chunk;
    let i: number;
    while ((i = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      // Multi-line replies ("250-...") end with "250 ...".
      if (/^\d{3} /.test(line)) waiters.shift()?.(line);
    }
  });
  const expectCode = async (code: string, what: string) => {
    const line = await new Promise<string>((resolve) => waiters.push(resolve));
    if (!line.startsWith(code)) throw new Error(`SMTP ${what}: ${line}`);
  };
  try {
    await expectCode('220', 'greeting');
    for (const [cmd, code] of [
      ['EHLO e2e.test', '250'],
      [`MAIL FROM:<${from}>`, '250'],
      [`RCPT TO:<${to}>`, '250'],
      ['DATA', '354'],
    ]) {
      sock.write(cmd + '\r\n');
      await expectCode(code, cmd);
    }
    sock.write(message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..') + '\r\n.\r\n');
    await expectCode('250', 'message');
    sock.write('QUIT\r\n');
  } finally {
    sock.end();
  }
}

/** Raw messages the test SMTP server accepted for `rcpt` (the app's outbound mail), oldest first. */
export function mailDeliveredTo(rcpt: string): string[] {
  const dir = path.join(E2E_DIR, 'mail', 'smtp-copies');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort((a, b) => parseInt(a) - parseInt(b))
    .filter((f) => {
      const env = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      return (env.rcpt_tos as string[]).some((r) => r.toLowerCase() === rcpt.toLowerCase());
    })
    .map((f) => fs.readFileSync(path.join(dir, f.replace(/\.json$/, '.eml')), 'utf8'));
}

/** The provider stand-in (Twilio, Graph and Bot API wire formats) and the SMS line connected to it. */
export const STANDIN = 'http://127.0.0.1:3210';
export const SMS_LINE = {
  number: '+15550100999',
  accountSid: 'AC0000000000000000000000000000e2e0',
  authToken: 'e2e-twilio-auth-token',
};

type ApiRequest = import('@playwright/test').APIRequestContext;

/** The channel accounts e2e-server.sh connected to the stand-in (ids and webhook URLs). */
export function standinChannels(): { sms: { id: number; webhook: string }; telegram: { id: number; webhook: string } } {
  return JSON.parse(fs.readFileSync(path.join(E2E_DIR, 'channels.json'), 'utf8'));
}

/** The customer texts `body` from `from` to our SMS line: the stand-in posts Twilio's signed webhook. */
export async function standinTexts(request: ApiRequest, from: string, body: string): Promise<void> {
  const r = await request.post(`${STANDIN}/_standin/twilio/inbound`, {
    data: {
      url: standinChannels().sms.webhook,
      auth_token: SMS_LINE.authToken,
      account_sid: SMS_LINE.accountSid,
      from,
      to: SMS_LINE.number,
      body,
    },
  });
  const text = await r.text();
  expect(r.ok(), `stand-in inbound: ${r.status()} ${text}`).toBeTruthy();
  const res = text ? JSON.parse(text) : {};
  expect(res.status, `our webhook's answer: ${text}`).toBe(200);
}

/** SMS sends the stand-in received from the app (Twilio Messages.json) to `to`, bodies decoded. */
export async function standinSmsSentTo(request: ApiRequest, to: string): Promise<string[]> {
  const all = await (await request.get(`${STANDIN}/_standin/requests?provider=twilio`)).json();
  return (all as Array<{ path: string; body: string }>)
    .filter((r) => r.path.endsWith('/Messages.json'))
    .map((r) => new URLSearchParams(r.body))
    .filter((p) => p.get('To') === to)
    .map((p) => p.get('Body') ?? '');
}

/** Escapes text for use inside a RegExp. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function base32Decode(s: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const c of s.replace(/[\s=]/g, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** The six digits an authenticator app shows at `ms` for a base32 key (RFC 6238, SHA-1, 30 s). */
export function totp(secret: string, ms: number): string {
  const step = Buffer.alloc(8);
  step.writeBigUInt64BE(BigInt(Math.floor(ms / 30_000)));
  const h = crypto.createHmac('sha1', base32Decode(secret)).update(step).digest();
  const o = h[h.length - 1] & 15;
  const bin = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return (bin % 1_000_000).toString().padStart(6, '0');
}
