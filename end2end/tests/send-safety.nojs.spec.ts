// Never send the wrong thing, without JavaScript (issue 12): the Move form closed after a move
// and offering only another channel, its blank handoff text the standard words for the chosen
// target; a form submitted twice (same draft key) stores one message, for replies and for
// replies with files.
import { test, expect, USERS, login, conversationList, timeline, uniqueSuffix, randomPhone, escapeRegExp, ORIGIN } from './support';
import type { Page } from '@playwright/test';

function customerPanel(page: Page) {
  return page.getByRole('complementary', { name: 'Customer' });
}

async function customerEmails(page: Page, name: string, email: string, text: string): Promise<string> {
  const r = await page.request.post('/api/playground/send', {
    headers: { Origin: ORIGIN, Accept: 'application/json' },
    form: { channel: 'email', identifier: email, name, body: text },
  });
  expect(r.ok(), await r.text()).toBeTruthy();
  const link = conversationList(page).getByRole('link', { name: new RegExp(escapeRegExp(name)) });
  await expect
    .poll(
      async () => {
        await page.reload();
        return link.count();
      },
      { timeout: 20_000 },
    )
    .toBeGreaterThan(0);
  await link.first().click();
  await expect(page).toHaveURL(/\/inbox\/\d+/);
  await expect(timeline(page).locator('article[data-direction="in"]', { hasText: text })).toBeVisible();
  return new URL(page.url()).pathname;
}

const isOpen = (page: Page) => page.locator('details.move-conversation').evaluate((d) => (d as HTMLDetailsElement).open);

test('moving twice without JavaScript: closed after a move, only another channel, the handoff names it', async ({ page }) => {
  const s = uniqueSuffix();
  const name = `Nora Nojs ${s}`;
  const email = `nora.${s}@customer.test`;
  const phone = randomPhone();
  await login(page, USERS.support);
  await customerEmails(page, name, email, `Parcel ${s}?`);
  const panel = customerPanel(page);
  await panel.getByLabel('Kind', { exact: true }).selectOption('phone');
  await panel.getByLabel('New identifier', { exact: true }).fill(phone);
  await panel.getByRole('button', { name: 'Add identifier' }).click();
  await expect(panel.locator('ul.identifiers > li[data-kind="phone"]')).toContainText(phone);

  await page.getByText('Move conversation to…', { exact: true }).click();
  const moveTo = page.getByLabel('Move to', { exact: true });
  await expect(moveTo.locator('option', { hasText: /^Email · / })).toHaveCount(0);
  await moveTo.selectOption({ label: (await moveTo.locator('option', { hasText: /^SMS · / }).first().textContent())! });
  await page.getByRole('button', { name: 'Move conversation', exact: true }).click();
  const tl = timeline(page);
  await expect(tl.getByText(new RegExp(`moved the conversation from Email · .* to SMS · ${escapeRegExp(phone)}`))).toBeVisible();
  expect(await isOpen(page)).toBe(false);

  await page.getByText('Move conversation to…', { exact: true }).click();
  await expect(moveTo.locator('option', { hasText: /^SMS · / })).toHaveCount(0);
  await expect(page.getByLabel(/^\s*Tell the customer on SMS · /)).toBeChecked();
  await page.getByRole('button', { name: 'Move conversation', exact: true }).click();
  await expect(tl.getByText(new RegExp(`moved the conversation from SMS · ${escapeRegExp(phone)} to Email · `))).toBeVisible();
  await expect(tl.locator('article[data-channel="sms"][data-direction="out"]', { hasText: `by email at ${email}` })).toBeVisible();
  await expect(tl.getByText(/moved the conversation from SMS · .* to SMS · /)).toHaveCount(0);
});

test('a reply form submitted twice stores one message, with or without files', async ({ page }) => {
  const s = uniqueSuffix();
  await login(page, USERS.support);
  const path = await customerEmails(page, `Tom Twice ${s}`, `tom.${s}@customer.test`, `Hello ${s}`);
  const id = path.split('/').pop()!;
  const composer = page.locator('form.composer').last();
  const key = await composer.locator('input[name="draft_key"]').getAttribute('value');
  expect(key, 'the server-rendered form carries a draft key').toBeTruthy();
  const via = await page.getByRole('combobox', { name: 'Reply via' }).inputValue();
  const text = `Submitted twice ${s}`;
  for (let i = 0; i < 2; i++) {
    const r = await page.request.post('/api/conversation/reply', {
      headers: { Origin: ORIGIN },
      form: { id, via, body: text, draft_key: key! },
      maxRedirects: 0,
    });
    expect(r.status(), await r.text()).toBeLessThan(400);
  }
  await page.reload();
  await expect(timeline(page).locator('article[data-direction="out"]', { hasText: text })).toHaveCount(1);
  // A new page, a new key.
  expect(await page.locator('form.composer').last().locator('input[name="draft_key"]').getAttribute('value')).not.toBe(key);

  // "Send with files", submitted twice.
  const files = page.locator('form.files');
  const filesKey = await files.locator('input[name="draft_key"]').getAttribute('value');
  expect(filesKey).toBeTruthy();
  const withFiles = `Your label ${s}`;
  for (let i = 0; i < 2; i++) {
    const r = await page.request.post(`/conversations/${id}/reply-with-files`, {
      headers: { Origin: ORIGIN },
      multipart: {
        via,
        body: withFiles,
        draft_key: filesKey!,
        files: { name: 'label.txt', mimeType: 'text/plain', buffer: Buffer.from(`label ${s}`) },
      },
      maxRedirects: 0,
    });
    expect(r.status(), await r.text()).toBeLessThan(400);
  }
  await page.reload();
  await expect(timeline(page).locator('article[data-direction="out"]', { hasText: withFiles })).toHaveCount(1);
});
