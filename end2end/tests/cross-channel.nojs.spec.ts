// JavaScript off: the customer panel's forms post to their server functions, which redirect
// back to the conversation. A customer emails, then texts from a new number; the agent adds
// the number to her, is offered the merge, merges, and undoes it.
import {
  test,
  expect,
  USERS,
  login,
  conversationList,
  timeline,
  screenshot,
  uniqueSuffix,
  randomPhone,
  smtpSend,
  standinTexts,
  escapeRegExp,
  SUPPORT_MAILBOX,
} from './support';
import type { Locator, Page } from '@playwright/test';

function customerPanel(page: Page) {
  return page.getByRole('complementary', { name: 'Customer' });
}

/** Without live updates, reloads the page until `locator` shows up. */
async function reloadUntilVisible(page: Page, locator: Locator) {
  await expect(async () => {
    await page.reload();
    await expect(locator).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
}

test('without JavaScript: adding a number another customer holds offers the merge; merge and undo it', async ({ page, request }) => {
  expect(test.info().project.use.javaScriptEnabled).toBe(false);
  const s = uniqueSuffix();
  const name = 'Omar Haddad';
  const email = `omar.${s}@customer.test`;
  const phone = randomPhone();
  const phoneRe = escapeRegExp(phone);

  await smtpSend(
    email,
    SUPPORT_MAILBOX,
    `From: ${name} <${email}>\nTo: Shop <${SUPPORT_MAILBOX}>\nSubject: Invoice ${s}\nMessage-ID: <invoice-${s}@customer.test>\n` +
      `Date: ${new Date().toUTCString()}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nPlease resend invoice ${s}.\n`,
  );
  const text = `Omar here, did you get my email about invoice ${s}?`;
  await standinTexts(request, phone, text);

  await login(page, USERS.support);
  const omar = conversationList(page).getByRole('link', { name: new RegExp(`${name}.*invoice ${s}`) });
  await reloadUntilVisible(page, omar);
  await omar.click();
  await expect(page).toHaveURL(/\/inbox\/\d+/);
  const omarUrl = new URL(page.url()).pathname;
  const panel = customerPanel(page);
  await expect(panel.getByRole('heading', { name, exact: true })).toBeVisible();

  // Add the number: it belongs to the customer the text created; the page comes back with the
  // reason and the merge offer.
  await panel.getByLabel('Kind', { exact: true }).selectOption('phone');
  await panel.getByLabel('New identifier', { exact: true }).fill(phone.replace(/^\+1(\d{3})(\d{3})(\d{4})$/, '+1 $1 $2 $3'));
  await panel.getByRole('button', { name: 'Add identifier' }).click();
  await expect(page).toHaveURL(new RegExp(`${escapeRegExp(omarUrl)}(?:[?#]|$)`));
  await expect(panel.getByRole('alert')).toContainText(`${phone} already belongs to ${phone}`);
  const merge = panel.getByRole('button', { name: `Merge ${phone} into this customer`, exact: true });
  await expect(merge).toBeVisible();
  const numberUrl = await panel
    .getByRole('listitem')
    .filter({ has: page.getByRole('button', { name: `Merge ${phone} into this customer` }) })
    .getByRole('link', { name: phone, exact: true })
    .getAttribute('href');
  expect(numberUrl).toMatch(/^\/inbox\/\d+$/);
  await screenshot(page, 'cross-channel-merge-offered');

  // Merge: the text joins her timeline.
  await merge.click();
  await expect(page).toHaveURL(new RegExp(`${escapeRegExp(omarUrl)}(?:[?#]|$)`));
  const tl = timeline(page);
  await expect(tl.getByText(`${USERS.support.name} merged ${phone} into this customer`)).toBeVisible();
  await expect(tl.locator('article[data-channel="email"]').filter({ hasText: `invoice ${s}` })).toBeVisible();
  await expect(tl.locator('article[data-channel="sms"]').filter({ hasText: text })).toBeVisible();
  await expect(panel.getByRole('heading', { name: 'Merged into this customer' })).toBeVisible();
  await expect(panel.locator('ul.identifiers > li[data-kind="phone"]')).toContainText(phone);
  await expect(panel.getByRole('alert')).toHaveCount(0);
  await screenshot(page, 'cross-channel-merged');

  // The number's own conversation points to her, with the same undo.
  await page.goto(numberUrl!);
  await expect(customerPanel(page).getByRole('status')).toContainText(`This customer was merged into ${name}`);
  await expect(tl.locator('article[data-channel]')).toHaveCount(0);
  await page.goto(omarUrl);

  // Undo: both customers as they were.
  await panel.getByRole('button', { name: `Undo merge of ${phone}` }).click();
  await expect(page).toHaveURL(new RegExp(`${escapeRegExp(omarUrl)}(?:[?#]|$)`));
  await expect(tl.getByText(`${USERS.support.name} undid the merge of ${phone}`)).toBeVisible();
  await expect(tl.locator('article[data-channel="sms"]')).toHaveCount(0);
  await expect(tl.locator('article[data-channel="email"]').filter({ hasText: `invoice ${s}` })).toBeVisible();
  await expect(panel.locator('ul.identifiers > li[data-kind="phone"]')).toHaveCount(0);
  await expect(panel.getByRole('heading', { name: 'Merged into this customer' })).toHaveCount(0);
  await screenshot(page, 'cross-channel-unmerged');

  await page.goto(numberUrl!);
  await expect(customerPanel(page).getByRole('heading', { name: phone, exact: true })).toBeVisible();
  await expect(customerPanel(page).getByText('This customer was merged into')).toHaveCount(0);
  await expect(tl.locator('article[data-channel="email"]')).toHaveCount(0);
  await expect(tl.locator('article[data-channel="sms"]').filter({ hasText: text })).toBeVisible();
  await expect(conversationList(page).getByRole('link', { name: new RegExp(phoneRe) })).toBeVisible();
});
