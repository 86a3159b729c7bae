// SMS and Telegram end to end, against the provider stand-in started by scripts/e2e-server.sh
// (it speaks Twilio's and Telegram's wire formats and signs its webhooks the providers' way):
// a text from an unknown number and a Telegram message from a known customer appear live in
// the right conversations; the agent replies on each; the delivery state turns delivered; STOP
// makes SMS unavailable with the reason shown.
import { test, expect, USERS, login, conversationList, timeline, screenshot, waitForHydration, uniqueSuffix, randomPhone } from './support';
import * as fs from 'fs';
import * as path from 'path';

const STANDIN = 'http://127.0.0.1:3210';
const CHANNELS = path.resolve(__dirname, '../../target/e2e/channels.json');
const SMS_NUMBER = '+15550100999';
const ACCOUNT_SID = 'AC0000000000000000000000000000e2e0';
const AUTH_TOKEN = 'e2e-twilio-auth-token';
const BOT_TOKEN = '4242:e2e-bot-token';
const TG_SECRET = 'e2e-telegram-secret';
// Grace Hopper, a demo customer who already wrote on Telegram.
const GRACE_TELEGRAM = 700100200;

interface Channels {
  sms: { id: number; webhook: string };
  telegram: { id: number; webhook: string };
}

function channels(): Channels {
  return JSON.parse(fs.readFileSync(CHANNELS, 'utf8'));
}

async function control(request: any, path: string, body: unknown): Promise<any> {
  const r = await request.post(`${STANDIN}${path}`, { data: body });
  expect(r.ok(), `${path}: ${r.status()} ${await r.text()}`).toBeTruthy();
  const text = await r.text();
  return text ? JSON.parse(text) : {};
}

async function customerTexts(request: any, from: string, body: string) {
  const res = await control(request, '/_standin/twilio/inbound', {
    url: channels().sms.webhook,
    auth_token: AUTH_TOKEN,
    account_sid: ACCOUNT_SID,
    from,
    to: SMS_NUMBER,
    body,
  });
  expect(res.status, JSON.stringify(res)).toBe(200);
}

test('a text from an unknown number arrives live; the agent replies by SMS and it is delivered; STOP blocks SMS', async ({ page, request }) => {
  const s = uniqueSuffix();
  const phone = randomPhone();
  await login(page, USERS.support);
  await waitForHydration(page);

  await customerTexts(request, phone, `Hi, is order ${s} ready for pickup?`);
  // A new conversation named by the number appears without a reload.
  const conv = conversationList(page).getByRole('link', { name: new RegExp(phone.replace('+', '\\+')) }).first();
  await expect(conv).toBeVisible({ timeout: 20_000 });
  await conv.click();
  const tl = timeline(page);
  await expect(tl.locator('article[data-direction="in"][data-channel="sms"]', { hasText: `order ${s}` })).toBeVisible();

  // The reply goes out by SMS (where the customer wrote), with the segment count shown.
  const via = page.getByRole('combobox', { name: 'Reply via' });
  expect((await via.locator('option:checked').textContent()) ?? '').toMatch(/^SMS .*SMS line/);
  const answer = `Yes, order ${s} is ready at the front desk.`;
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(answer);
  await expect(page.locator('.composer .counter')).toContainText('1 segment (GSM-7)');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const outbound = tl.locator('article[data-direction="out"]', { hasText: answer });
  await expect(outbound).toBeVisible();
  // The stand-in reports sent, then delivered, through signed status callbacks.
  await expect(outbound.locator('.delivery')).toHaveText('delivered', { timeout: 20_000 });
  const sends = await (await request.get(`${STANDIN}/_standin/requests?provider=twilio`)).json();
  const ours = sends.filter((r: any) => r.path.endsWith('/Messages.json') && decodeURIComponent(r.body.replace(/\+/g, ' ')).includes(answer));
  expect(ours.length).toBe(1);
  expect(decodeURIComponent(ours[0].body)).toContain(`To=${phone}`);
  await screenshot(page, 'sms-conversation');

  // STOP: the customer opts out; the panel says so and the SMS option is unavailable.
  await customerTexts(request, phone, 'STOP');
  await expect(tl.locator('.event[data-kind="consent"]', { hasText: 'Opted out of SMS (texted STOP)' })).toBeVisible({ timeout: 20_000 });
  await expect(page.locator('.customer-pane .consent')).toContainText('Opted out (texted STOP)');
  await expect(page.locator('.composer .notice.blocked')).toContainText('opted out');
  await expect(page.getByRole('button', { name: 'Send', exact: true })).toBeDisabled();
  await screenshot(page, 'sms-opted-out');
});

test('a Telegram message from a known customer lands in her conversation; the reply is delivered', async ({ page, request }) => {
  const s = uniqueSuffix();
  // The bot exists at the provider and its webhook points at our app (what "Register webhook" does).
  await control(request, '/_standin/telegram/bot', { token: BOT_TOKEN, username: 'shop_e2e_bot' });
  const set = await request.post(`${STANDIN}/bot${BOT_TOKEN}/setWebhook`, {
    data: { url: channels().telegram.webhook, secret_token: TG_SECRET },
  });
  expect((await set.json()).ok).toBe(true);

  await login(page, USERS.support);
  await waitForHydration(page);
  const res = await control(request, '/_standin/telegram/update', {
    token: BOT_TOKEN,
    from: { id: GRACE_TELEGRAM, first_name: 'Grace', last_name: 'Hopper', username: 'amazing_grace' },
    text: `Any news on the yearly billing? (${s})`,
  });
  expect(res.status, JSON.stringify(res)).toBe(200);

  const conv = conversationList(page).getByRole('link', { name: /Grace Hopper/ }).first();
  await expect(conv).toContainText(s, { timeout: 20_000 });
  await conv.click();
  const tl = timeline(page);
  // Her earlier email and this Telegram message share one timeline.
  await expect(tl.locator('article[data-channel="email"]').first()).toBeVisible();
  await expect(tl.locator('article[data-direction="in"][data-channel="telegram"]', { hasText: s })).toBeVisible();

  const via = page.getByRole('combobox', { name: 'Reply via' });
  expect((await via.locator('option:checked').textContent()) ?? '').toMatch(/^Telegram .*Telegram bot/);
  const answer = `Yearly billing starts next month (${s}).`;
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(answer);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const outbound = tl.locator('article[data-direction="out"]', { hasText: answer });
  await expect(outbound.locator('.delivery')).toHaveText('delivered', { timeout: 20_000 });
  const sends = await (await request.get(`${STANDIN}/_standin/requests?provider=telegram`)).json();
  const ours = sends.filter((r: any) => r.path.endsWith('/sendMessage') && r.body.includes(answer));
  expect(ours.length).toBe(1);
  expect(JSON.parse(ours[0].body).chat_id.toString()).toBe(String(GRACE_TELEGRAM));
  await screenshot(page, 'telegram-conversation');
});

test('a payload that cannot be processed is listed for the admin with its words and a retry', async ({ page, request }) => {
  // Signed and well-formed, so it is stored; its sender is no phone number, so processing fails.
  await customerTexts(request, 'not-a-number', 'hello?');
  await login(page, USERS.admin);
  await waitForHydration(page);
  await page.goto('/admin');
  const section = page.getByRole('region', { name: 'Failed events' });
  const row = section.locator('tr', { hasText: 'is not a phone number' }).first();
  await expect(row).toBeVisible({ timeout: 20_000 });
  await expect(row).toContainText('SMS line');
  await row.scrollIntoViewIfNeeded();
  await screenshot(page, 'admin-failed-events');
  await row.getByRole('button', { name: 'Retry' }).click();
  // Retried, it fails again with the same words: still listed, once.
  await expect(section.locator('tr', { hasText: 'is not a phone number' })).toHaveCount(1, { timeout: 20_000 });
});
