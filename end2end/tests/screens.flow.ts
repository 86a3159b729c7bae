// Every screen, every hand (issue 12): the phone layout's views and the navigation between them,
// nothing wider than the screen, the timeline's height, the tab title, times in the agent's zone.
// Run with JavaScript (screens.spec.ts) and without (screens.nojs.spec.ts).
import { type Page } from '@playwright/test';
import { test, expect, USERS, login, gotoApp, conversationList, timeline, screenshot, jsEnabled } from './support';

export const PHONE = { width: 390, height: 844 };

/** Fails when the document is wider than the viewport (a sideways scroll on a phone). */
export async function expectNoSidewaysScroll(page: Page, where: string): Promise<void> {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  expect(scroll, `${where}: document scrollWidth ${scroll} <= viewport ${width}`).toBeLessThanOrEqual(width);
}

/** Fails when the inbox's views make the page itself scroll on a phone: their panes scroll. */
export async function expectNoPageScroll(page: Page, where: string): Promise<void> {
  const { scroll, height } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollHeight,
    height: window.innerHeight,
  }));
  expect(scroll, `${where}: document scrollHeight ${scroll} <= viewport ${height}`).toBeLessThanOrEqual(height);
}

export function customerPanel(page: Page) {
  return page.getByRole('complementary', { name: 'Customer' });
}

/** Phone: list -> conversation -> customer panel -> conversation -> list. */
export async function phoneNavigation(page: Page): Promise<void> {
  await page.setViewportSize(PHONE);
  await login(page, USERS.support);
  const list = conversationList(page);
  const first = list.getByRole('link', { name: /Ada Lovelace/ }).first();
  await expect(first).toBeVisible();
  await expect(timeline(page)).toHaveCount(0);
  await expectNoSidewaysScroll(page, 'phone list');
  await screenshot(page, 'phone-1-list');

  await first.click();
  await expect(page).toHaveURL(/\/inbox\/\d+/);
  const heading = page.getByRole('heading', { level: 1, name: 'Ada Lovelace' });
  await expect(heading).toBeVisible();
  await expect(list).toBeHidden();
  await expect(timeline(page)).toBeVisible();
  await expect(customerPanel(page)).toBeHidden();
  // The composer is usable: on the screen, typing works, Send is reachable.
  const message = page.getByRole('textbox', { name: 'Message', exact: true });
  await expect(message).toBeVisible();
  await message.fill('Typed on a phone');
  await expect(message).toHaveValue('Typed on a phone');
  for (const el of [message, page.getByRole('button', { name: 'Send', exact: true })]) {
    const box = await el.boundingBox();
    expect(box, 'composer control has a box').not.toBeNull();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
  }
  const tlHeight = await timeline(page).evaluate((el) => el.clientHeight);
  expect(tlHeight, 'timeline height on a phone').toBeGreaterThanOrEqual(200);
  await expectNoSidewaysScroll(page, 'phone conversation');
  await expectNoPageScroll(page, 'phone conversation');
  await screenshot(page, 'phone-2-conversation');

  await page.getByRole('link', { name: 'Customer details' }).click();
  await expect(customerPanel(page)).toBeVisible();
  await expect(customerPanel(page).getByRole('heading', { name: 'Ada Lovelace' })).toBeVisible();
  await expect(timeline(page)).toBeHidden();
  await expectNoSidewaysScroll(page, 'phone customer panel');
  await expectNoPageScroll(page, 'phone customer panel');
  await screenshot(page, 'phone-3-customer');

  await customerPanel(page).getByRole('link', { name: '← Conversation' }).click();
  await expect(customerPanel(page)).toBeHidden();
  await expect(timeline(page)).toBeVisible();

  await page.getByRole('link', { name: '← Conversations' }).click();
  await expect(page).toHaveURL(/\/inbox(\?|$)/);
  await expect(list).toBeVisible();
  await expect(timeline(page)).toHaveCount(0);
  await expectNoSidewaysScroll(page, 'phone list again');
}

/** Phone: the other pages are no wider than the screen either. */
export async function phoneOtherPages(page: Page): Promise<void> {
  await page.setViewportSize(PHONE);
  await page.goto('/login');
  await expectNoSidewaysScroll(page, 'phone login');
  await login(page, USERS.admin);
  for (const [url, name] of [
    ['/playground', 'playground'],
    ['/admin', 'admin'],
  ]) {
    await gotoApp(page, url);
    await expect(page.getByRole('main')).toBeVisible();
    await expectNoSidewaysScroll(page, `phone ${name}`);
    await screenshot(page, `phone-${name}`);
  }
}

/** The tab title names the open conversation and the list's unread count. */
export async function tabTitle(page: Page): Promise<void> {
  await login(page, USERS.support);
  const unread = await conversationList(page).locator('a.conversation.unread').count();
  const count = unread > 0 ? `\\(${unread}\\) ` : '';
  await expect(page).toHaveTitle(new RegExp(`^${count}Inbox · Convergence$`));
  await conversationList(page).getByRole('link', { name: /Ada Lovelace/ }).first().click();
  await expect(page.getByRole('heading', { level: 1, name: 'Ada Lovelace' })).toBeVisible();
  await expect(page).toHaveTitle(/^(\(\d+\) )?Ada Lovelace · Convergence$/);
}

/** Desktop: with every panel of the composer open, the timeline still has room. */
export async function timelineKeepsItsHeight(page: Page): Promise<void> {
  await page.setViewportSize({ width: 1400, height: 900 });
  await login(page, USERS.support);
  await conversationList(page).getByRole('link', { name: /Ada Lovelace/ }).first().click();
  await expect(timeline(page)).toBeVisible();
  // Open every folded panel in the composers (move, attachments) and write a long reply.
  for (const summary of await page.locator('.composers details > summary').all()) {
    await summary.click();
  }
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill('A long reply.\n'.repeat(30));
  for (const size of [
    { width: 1400, height: 900 },
    { width: 1400, height: 700 },
    PHONE,
  ]) {
    await page.setViewportSize(size);
    const h = await timeline(page).evaluate((el) => el.getBoundingClientRect().height);
    expect(h, `timeline height at ${size.width}x${size.height}`).toBeGreaterThanOrEqual(Math.min(224, size.height * 0.25));
  }
  await page.setViewportSize({ width: 1400, height: 700 });
  await screenshot(page, 'desktop-panels-open');
}

/**
 * Times in the agent's zone. With JavaScript the browser's zone (here America/New_York) is
 * learnt and saved; the server then renders in it. Without, times are in UTC and say so, until a
 * cookie names the zone.
 */
export async function timesInTheAgentsZone(page: Page): Promise<void> {
  await login(page, USERS.support);
  await conversationList(page).getByRole('link', { name: /Ada Lovelace/ }).first().click();
  const first = timeline(page).locator('article time').first();
  await expect(first).toBeVisible();
  if (jsEnabled()) {
    await expect(first).toHaveAttribute('title', /\(America\/New_York, UTC-0[45]:00\)$/);
    await expect(page.locator('.zone-note')).toHaveCount(0);
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'tz')?.value).toBe('America/New_York');
    // The server renders in the saved zone: the HTML as sent, before any script.
    const html = await (await page.request.get(page.url())).text();
    expect(html).toContain('(America/New_York, UTC-0');
  } else {
    await expect(first).toHaveAttribute('title', /UTC \(your time zone is not known yet\)$/);
    await expect(page.getByText('Times in UTC')).toBeVisible();
    await page.context().addCookies([{ name: 'tz', value: 'Asia/Kolkata', url: page.url() }]);
    await page.reload();
    await expect(first).toHaveAttribute('title', /IST \(Asia\/Kolkata, UTC\+05:30\)$/);
    await expect(page.getByText('Times in UTC')).toHaveCount(0);
  }
  // Short forms: "Today 14:03", "Yesterday 09:12" or a date; machine-readable UTC in datetime.
  await expect(first).toHaveText(/^(Today|Yesterday|\d{4}-\d{2}-\d{2}) \d{2}:\d{2}$/);
  await expect(first).toHaveAttribute('datetime', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/);
}

export { test };
