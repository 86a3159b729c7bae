import { test, expect, waitForHydration } from './support';
import { USERS, login, conversationList, timeline } from './support';
import { phoneNavigation, phoneOtherPages, tabTitle, timelineKeepsItsHeight, timesInTheAgentsZone } from './screens.flow';

// The browser's zone: the app learns it (Intl), saves it and renders in it.
test.use({ timezoneId: 'America/New_York' });

test('phone: list, conversation and customer panel as views, nothing wider than the screen', async ({ page }) => {
  await phoneNavigation(page);
});

test('phone: login, playground and admin fit the screen', async ({ page }) => {
  await phoneOtherPages(page);
});

test('the tab title shows the open conversation and the unread count', async ({ page }) => {
  await tabTitle(page);
});

test('the timeline keeps a usable height whatever panels are open', async ({ page }) => {
  await timelineKeepsItsHeight(page);
});

test('times in the browser\'s zone, the zone on hover, rendered so by the server too', async ({ page }) => {
  await timesInTheAgentsZone(page);
});

test('keyboard: a skip link first, and focus moves to the conversation when it opens', async ({ page }) => {
  await login(page, USERS.support);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to main content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/#main$/);
  await conversationList(page).getByRole('link', { name: /Ada Lovelace/ }).first().click();
  await waitForHydration(page);
  await expect(timeline(page)).toBeFocused();
  // The focused timeline scrolls with the keyboard (when it is longer than its box).
  const tl = timeline(page);
  if (await tl.evaluate((el) => el.scrollHeight > el.clientHeight + 20)) {
    await tl.evaluate((el) => (el.scrollTop = el.scrollHeight));
    const bottom = await tl.evaluate((el) => el.scrollTop);
    await page.keyboard.press('PageUp');
    await expect.poll(() => tl.evaluate((el) => el.scrollTop)).toBeLessThan(bottom);
  }
});
