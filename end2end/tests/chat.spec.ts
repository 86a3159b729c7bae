// The website chat, embedded in a shop's site served from another origin (a second local
// port): the admin adds the chat and copies its embed code; a visitor chats, the agent answers
// live, the visitor reloads and keeps the thread; a site that is not allowed gets nothing.
import * as http from 'http';
import * as crypto from 'crypto';
import AxeBuilder from '@axe-core/playwright';
import { type Page, type FrameLocator, type Browser } from '@playwright/test';
import { test, expect, USERS, login, gotoApp, conversationList, timeline, screenshot, uniqueSuffix, smtpSend, mailDeliveredTo, SUPPORT_MAILBOX } from './support';

const IDENTITY_SECRET = 'e2e-identity-secret-7';

const SHOP_PORT = 3400;
const OTHER_PORT = 3401;
const SHOP = `http://127.0.0.1:${SHOP_PORT}`;
const OTHER = `http://127.0.0.1:${OTHER_PORT}`;

let snippet = '';
const servers: http.Server[] = [];

/** The shop's pages: the embed code on every page, as the admin pasted it. `/signed?…`
 * is a page of a signed-in user: it tells the chat who they are. */
function shopPage(url: string): string {
  const u = new URL(url, 'http://shop.invalid');
  const title = u.pathname.startsWith('/other') ? 'Shop: delivery' : 'Shop';
  const user = u.pathname === '/signed'
    ? `<script>window.addEventListener('load', () => Convergence.identify(${JSON.stringify(Object.fromEntries(u.searchParams)).replace(/</g, '\\u003c')}));</script>`
    : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head>
<body><main><h1>${title}</h1><p><a href="/other">Delivery times</a></p></main>
${snippet}${user}</body></html>`;
}

/** No moderate, serious or critical axe violation on `page`, its chat frame included. */
async function expectAccessible(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => ['moderate', 'serious', 'critical'].includes(v.impact ?? ''));
  const report = bad.map((v) => `${v.impact} ${v.id}: ${v.help} ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('\n');
  expect(bad, `${name}: axe violations\n${report}`).toEqual([]);
  expect(results.passes.length).toBeGreaterThan(10);
}

function hmac(id: string): string {
  return crypto.createHmac('sha256', IDENTITY_SECRET).update(id).digest('hex');
}

function serve(port: number): Promise<void> {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(shopPage(req.url ?? '/'));
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
}

test.beforeAll(async () => {
  await serve(SHOP_PORT);
  await serve(OTHER_PORT);
});

test.afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(null)))));
});

function chatFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe[title="Chat"]');
}

async function visitorPage(browser: Browser, width = 1400): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 820 } });
  return context.newPage();
}

/** The admin adds a website chat for the shop; answers the embed code shown on its form. */
async function addChat(page: Page, name: string, origins = SHOP): Promise<string> {
  await login(page, USERS.admin);
  await gotoApp(page, '/admin?add=chat#provider-form');
  const form = page.getByRole('form', { name: /Add account: Website chat/ });
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Allowed websites').fill(origins);
  await form.getByLabel('Greeting').fill('Hi! Ask us anything.');
  await form.getByLabel('Ask for a name').selectOption('optional');
  await form.getByLabel('Ask for an email').selectOption('optional');
  await form.getByLabel('Identity secret').fill(IDENTITY_SECRET);
  await form.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\?edit_provider=\d+/);
  // The redrawn form shows what was saved.
  await expect(page.getByRole('form', { name: /Edit account: Website chat/ }).getByLabel('Allowed websites')).toHaveValue(origins);
  const code = page.getByRole('textbox', { name: 'Embed code' });
  await expect(code).toHaveValue(/chat\/widget\.js/);
  return code.inputValue();
}

test('a visitor on the shop chats with an agent live, reloads and keeps the thread; other sites are refused', async ({ page, browser }) => {
  test.setTimeout(120_000);
  const s = uniqueSuffix();
  snippet = await addChat(page, `Shop chat ${s}`);
  expect(snippet).toMatch(/^<script src="http:\/\/127\.0\.0\.1:3000\/chat\/widget\.js" data-chat="\d+" async><\/script>$/);
  await expectAccessible(page, 'the saved chat form at 1400 px');
  await screenshot(page, 'chat-admin-form');

  // The agent's inbox is open and live.
  await login(page, USERS.support);

  // The visitor opens the chat from the launcher and writes; markup stays text.
  const visitor = await visitorPage(browser);
  await visitor.goto(`${SHOP}/`);
  const launcher = visitor.getByRole('button', { name: 'Chat with us' });
  await expect(launcher).toHaveAttribute('aria-expanded', 'false');
  await launcher.click();
  await expect(launcher).toHaveAttribute('aria-expanded', 'true');
  const frame = chatFrame(visitor);
  await expect(frame.getByRole('heading', { name: `Shop chat ${s}` })).toBeVisible();
  await expect(frame.getByText('Hi! Ask us anything.')).toBeVisible();
  await frame.getByLabel('Your name (optional)').fill('Vera Visitor');
  const question = `Where is my parcel <b>${s}</b>?`;
  await frame.getByLabel('Your message').fill(question);
  await frame.getByLabel('Your message').press('Enter');
  const mine = frame.getByRole('log', { name: 'Messages' }).locator('li.visitor', { hasText: question });
  await expect(mine).toBeVisible();
  await expect(frame.locator('li.visitor b')).toHaveCount(0);

  // It reaches the agent's inbox without a reload.
  const conv = conversationList(page).getByRole('link', { name: /Vera Visitor/ }).first();
  await expect(conv).toBeVisible({ timeout: 5_000 });
  await conv.click();
  const tl = timeline(page);
  await expect(tl.locator('article[data-direction="in"][data-channel="chat"]', { hasText: question })).toBeVisible();
  await expect(tl.locator('article b')).toHaveCount(0);
  // The agent has it open: the visitor sees it seen.
  await expect(mine.locator('.meta')).toContainText('Seen', { timeout: 5_000 });

  // The agent answers on the chat; the visitor sees it at once, and the agent sees it read.
  const via = page.getByRole('combobox', { name: 'Reply via' });
  expect((await via.locator('option:checked').textContent()) ?? '').toMatch(/^Website chat/);
  const answer = `It is out for delivery today (${s}).`;
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(answer);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const theirs = frame.locator('li.agent', { hasText: answer });
  await expect(theirs).toBeVisible({ timeout: 5_000 });
  await expect(theirs.locator('.who')).toHaveText('Sam');
  const outbound = tl.locator('article[data-direction="out"]', { hasText: answer });
  await expect(outbound.locator('.delivery')).toHaveText('read', { timeout: 10_000 });
  await screenshot(visitor, 'chat-widget-open');
  await expectAccessible(visitor, 'the open chat at 1400 px');
  await screenshot(page, 'chat-agent-conversation');

  // A reload and a navigation keep the thread (the token is kept by the shop's page).
  await visitor.reload();
  await expect(chatFrame(visitor).locator('li.agent', { hasText: answer })).toBeVisible();
  await expect(chatFrame(visitor).locator('li.visitor', { hasText: question })).toBeVisible();
  await visitor.getByRole('link', { name: 'Delivery times' }).click();
  await expect(visitor).toHaveTitle('Shop: delivery');
  await expect(chatFrame(visitor).locator('li.agent', { hasText: answer })).toBeVisible();
  // Escape closes the chat and gives the focus back to the launcher.
  await chatFrame(visitor).getByLabel('Your message').press('Escape');
  await expect(visitor.getByRole('button', { name: 'Chat with us' })).toBeFocused();
  await expect(visitor.locator('iframe[title="Chat"]')).toBeHidden();

  // Another site with the same embed code: the frame is refused (frame-ancestors) and the
  // API answers its script nothing.
  const stranger = await visitorPage(browser);
  await stranger.goto(`${OTHER}/`);
  await stranger.getByRole('button', { name: 'Chat with us' }).click();
  await expect(chatFrame(stranger).getByLabel('Your message')).toHaveCount(0);
  const chatId = /data-chat="(\d+)"/.exec(snippet)![1];
  const read = await stranger.evaluate(async (url) => {
    try {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ site: location.origin }) });
      return `status ${r.status}`;
    } catch (e) {
      return 'blocked';
    }
  }, `http://127.0.0.1:3000/chat/api/${chatId}/session`);
  expect(read).toBe('blocked');
  await visitor.context().close();
  await stranger.context().close();
});

test('the chat fills a phone screen and closes back to the launcher', async ({ page, browser }) => {
  const s = uniqueSuffix();
  // Each chat names its sites (one list per chat): this one adds a second site.
  snippet = await addChat(page, `Phone chat ${s}`, `${SHOP}\nhttps://phone-${s}.example.com`);
  const visitor = await visitorPage(browser, 390);
  await visitor.goto(`${SHOP}/`);
  await visitor.getByRole('button', { name: 'Chat with us' }).click();
  const box = visitor.locator('iframe[title="Chat"]');
  await expect(box).toBeVisible();
  const size = await box.boundingBox();
  expect(size!.width).toBeGreaterThanOrEqual(389);
  expect(size!.height).toBeGreaterThanOrEqual(800);
  await expect(chatFrame(visitor).getByLabel('Your message')).toBeVisible();
  await screenshot(visitor, 'chat-widget-phone');
  await expectAccessible(visitor, 'the open chat at 390 px');
  // The admin's chat form at phone width too.
  await page.setViewportSize({ width: 390, height: 844 });
  await gotoApp(page, '/admin?add=chat#provider-form');
  await expect(page.getByRole('form', { name: /Add account: Website chat/ })).toBeVisible();
  await expectAccessible(page, 'the chat form at 390 px');
  await screenshot(page, 'chat-admin-form-phone');
  await chatFrame(visitor).getByRole('button', { name: 'Close chat' }).click();
  await expect(visitor.getByRole('button', { name: 'Chat with us' })).toBeVisible();
  await visitor.context().close();
});

test('a signed-in visitor joins the existing customer; a forged signature is refused', async ({ page, browser }) => {
  const s = uniqueSuffix();
  snippet = await addChat(page, `Signed chat ${s}`, `${SHOP}\nhttps://id-${s}.example.com`);
  await login(page, USERS.support);

  // Ada is signed in on the shop: her chat lands in her existing conversation.
  const ada = await visitorPage(browser);
  const q = new URLSearchParams({ id: `user-ada-${s}`, email: 'ada.lovelace@example.com', name: 'Ada', hash: hmac(`user-ada-${s}`) });
  const identified = ada.waitForResponse((r) => r.url().endsWith('/identify'));
  await ada.goto(`${SHOP}/signed?${q}`);
  await ada.getByRole('button', { name: 'Chat with us' }).click();
  expect((await identified).status()).toBe(200);
  const frame = chatFrame(ada);
  await frame.getByLabel('Your message').fill(`Signed in question ${s}`);
  await frame.getByLabel('Your message').press('Enter');
  await expect(frame.locator('li.visitor .meta', { hasText: /Sent|:/ }).first()).toBeVisible();
  const adaConv = conversationList(page).getByRole('link', { name: /Ada Lovelace/ }).first();
  await expect(adaConv).toContainText(s, { timeout: 5_000 });
  await adaConv.click();
  await expect(timeline(page).locator('article[data-channel="chat"]', { hasText: `Signed in question ${s}` })).toBeVisible();
  await expect(timeline(page).locator('article[data-channel="email"]').first()).toBeVisible();

  // Someone forges Ada's signature: refused, and their chat stays their own.
  const forger = await visitorPage(browser);
  const bad = new URLSearchParams({ id: `user-ada-${s}`, email: 'ada.lovelace@example.com', name: 'Ada', hash: hmac('someone-else') });
  const refused = forger.waitForResponse((r) => r.url().endsWith('/identify'));
  await forger.goto(`${SHOP}/signed?${bad}`);
  await forger.getByRole('button', { name: 'Chat with us' }).click();
  expect((await refused).status()).toBe(403);
  await chatFrame(forger).getByLabel('Your message').fill(`Forged question ${s}`);
  await chatFrame(forger).getByLabel('Your message').press('Enter');
  const forged = conversationList(page).getByRole('link', { name: new RegExp(`Forged question ${s}`) }).first();
  await expect(forged).toBeVisible({ timeout: 5_000 });
  await expect(forged).not.toContainText('Ada Lovelace');
  await expect(adaConv).not.toContainText('Forged');
  await ada.context().close();
  await forger.context().close();
});

/** A raw email's text body with quoted-printable undone. */
function plain(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

function header(raw: string, name: string): string | undefined {
  const m = new RegExp(`^${name}: (.*)$`, 'mi').exec(raw);
  return m?.[1].trim();
}

test('the visitor leaves: the answer goes by email, the email answer continues the timeline, the link reopens the chat', async ({ page, browser }) => {
  test.setTimeout(120_000);
  const s = uniqueSuffix();
  // An address of its own: the email tests expect Ann's mailbox to be nobody's in the app yet.
  const customer = `chat.${s}@customer.test`;
  snippet = await addChat(page, `Mail chat ${s}`, `${SHOP}\nhttps://mail-${s}.example.com`);
  await login(page, USERS.support);

  const visitor = await visitorPage(browser);
  await visitor.goto(`${SHOP}/`);
  await visitor.getByRole('button', { name: 'Chat with us' }).click();
  const frame = chatFrame(visitor);
  await frame.getByLabel('Your name (optional)').fill(`Ann Chat ${s}`);
  await frame.getByLabel('Your email (optional)').fill(customer);
  await frame.getByLabel('Your message').fill(`Can I change my order ${s}?`);
  await frame.getByLabel('Your message').press('Enter');
  await expect(frame.locator('li.visitor', { hasText: `order ${s}` })).toBeVisible();
  // The visitor leaves before anyone answers.
  await visitor.context().close();

  const conv = conversationList(page).getByRole('link', { name: new RegExp(`Ann Chat ${s}`) }).first();
  await expect(conv).toBeVisible({ timeout: 5_000 });
  await conv.click();
  const answer = `Yes, until it ships (${s}).`;
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(answer);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const tl = timeline(page);
  await expect(tl.locator('article[data-channel="chat"][data-direction="out"]', { hasText: answer })).toBeVisible();

  // Unseen, the answer goes on by email to the address the visitor typed (real SMTP).
  await expect.poll(() => mailDeliveredTo(customer).filter((m) => plain(m).includes(answer)).length, { timeout: 40_000 }).toBe(1);
  const mail = mailDeliveredTo(customer).find((m) => plain(m).includes(answer))!;
  const text = plain(mail);
  expect(text).toContain('You left our website chat before you saw our answer');
  const link = /(http:\/\/127\.0\.0\.1:3400\/\S*convergence_chat=\S+)/.exec(text)![1];
  await expect(tl.locator('article[data-channel="email"][data-direction="out"]', { hasText: answer })).toBeVisible({ timeout: 10_000 });

  // The customer answers the email; it continues the same conversation.
  const reply = `Then please add a second one (${s}).`;
  await smtpSend(
    customer,
    SUPPORT_MAILBOX,
    `From: Ann <${customer}>\nTo: ${header(mail, 'Reply-To') ?? SUPPORT_MAILBOX}\nSubject: Re: ${header(mail, 'Subject') ?? 'chat'}\n` +
      `Message-ID: <chat-${s}@customer.test>\nIn-Reply-To: ${header(mail, 'Message-ID')}\nDate: ${new Date().toUTCString()}\n\n${reply}\n`,
  );
  await expect(tl.locator('article[data-channel="email"][data-direction="in"]', { hasText: reply })).toBeVisible({ timeout: 30_000 });

  // The link in the email opens the chat attached to her, with the email in the thread.
  const back = await visitorPage(browser);
  await back.goto(link);
  const again = chatFrame(back);
  await expect(again.locator('li.visitor', { hasText: `order ${s}` })).toBeVisible({ timeout: 10_000 });
  await expect(again.locator('li', { hasText: reply })).toContainText('by email');
  await screenshot(back, 'chat-continued-after-email');
  await back.context().close();
});

test("an agent's invitation link opens the chat attached to the customer", async ({ page, browser }) => {
  const s = uniqueSuffix();
  snippet = await addChat(page, `Invite chat ${s}`, `${SHOP}\nhttps://invite-${s}.example.com`);
  await login(page, USERS.support);
  await conversationList(page).getByRole('link', { name: /Grace Hopper/ }).first().click();
  await page.getByRole('link', { name: 'Invite to website chat' }).click();
  const draft = page.getByRole('textbox', { name: 'Message', exact: true });
  await expect(draft).toHaveValue(/You can continue with us in our website chat: http:\/\/127\.0\.0\.1:3400\/\?convergence_chat=k1\.\d+\.\d+\./);
  const link = /(http:\S+)/.exec(await draft.inputValue())![1];
  // The link names the chat it opens (the first one listing the shop); the shop's pages carry
  // that chat's embed code.
  const chatId = /convergence_chat=k1\.(\d+)\./.exec(link)![1];
  snippet = `<script src="http://127.0.0.1:3000/chat/widget.js" data-chat="${chatId}" async></script>`;

  const visitor = await visitorPage(browser);
  await visitor.goto(link);
  const frame = chatFrame(visitor);
  await frame.getByLabel('Your message').fill(`Invited and here (${s})`);
  await frame.getByLabel('Your message').press('Enter');
  // It lands in Grace's conversation, not a new visitor's.
  const grace = conversationList(page).getByRole('link', { name: /Grace Hopper/ }).first();
  await expect(grace).toContainText(`Invited and here (${s})`, { timeout: 5_000 });
  await expect(timeline(page).locator('article[data-channel="chat"]', { hasText: `Invited and here (${s})` })).toBeVisible();
  await visitor.context().close();
});
