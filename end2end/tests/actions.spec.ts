import { test, expect, USERS, login, conversationList, timeline, screenshot, waitForHydration, uniqueSuffix } from './support';

test('support adds a private note and resolves a conversation', async ({ page }) => {
  const note = `Private note ${uniqueSuffix()}`;
  await login(page, USERS.support);

  // Alan Turing's conversation (kept away from the other specs' customers).
  const conv = conversationList(page).getByRole('link', { name: /Alan Turing/ }).first();
  await expect(conv).toBeVisible();
  await conv.click();
  await expect(page).toHaveURL(/\/inbox\/\d+/);
  await waitForHydration(page);
  const tl = timeline(page);
  await expect(tl.locator('article').first()).toBeVisible();

  await page.getByRole('textbox', { name: 'Private note' }).fill(note);
  await page.getByRole('button', { name: 'Add note' }).click();
  const noteArticle = tl.locator('article.note', { hasText: note });
  await expect(noteArticle).toBeVisible();
  await expect(page.getByRole('textbox', { name: 'Private note' })).toHaveValue('');

  await expect(tl.locator('div.event', { hasText: 'Resolved' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Resolve', exact: true }).click();
  await expect(tl.locator('div.event', { hasText: 'Resolved' })).toBeVisible();
  // A resolved conversation offers to reopen it.
  await expect(page.getByRole('button', { name: 'Reopen', exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Resolve', exact: true })).toHaveCount(0);
  await screenshot(page, 'conversation-resolved');
});
