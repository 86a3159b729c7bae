import { test, expect, USERS, CHANNEL_LABELS, login, conversationList, timeline, distinctAttr, screenshot, waitForHydration } from './support';

test('Ada Lovelace: one timeline across channels, customer panel', async ({ page }) => {
  await login(page, USERS.support);

  const ada = conversationList(page).getByRole('link', { name: /Ada Lovelace/ });
  await expect(ada.first()).toBeVisible();
  await ada.first().click();
  await expect(page).toHaveURL(/\/inbox\/\d+/);
  await waitForHydration(page);

  const tl = timeline(page);
  const articles = tl.locator('article[data-channel]');
  await expect(articles.first()).toBeVisible();
  const channels = await distinctAttr(articles, 'data-channel');
  expect(channels.length, `channels in Ada's timeline: ${channels.join(', ')}`).toBeGreaterThanOrEqual(2);

  // Each message says which channel it came on.
  for (const c of channels) {
    await expect(tl.locator(`article[data-channel="${c}"]`).first()).toContainText(CHANNEL_LABELS[c]);
  }
  const directions = await distinctAttr(articles, 'data-direction');
  for (const d of directions) expect(['in', 'out']).toContain(d);
  // Outbound messages show a delivery state.
  const outbound = tl.locator('article[data-direction="out"]');
  if ((await outbound.count()) > 0) {
    await expect(outbound.first().locator('.delivery')).toHaveText(/^(queued|sending|sent|delivered|failed)$/);
  }

  const customer = page.getByRole('complementary', { name: 'Customer' });
  await expect(customer.getByRole('heading', { name: 'Ada Lovelace' })).toBeVisible();
  await expect(customer.getByText('Channels used')).toBeVisible();
  // The first list in the panel is the identifiers list; Ada has several (email, phone, ...).
  const identifiers = customer.getByRole('list').first().getByRole('listitem');
  expect(await identifiers.count(), 'Ada has several identifiers').toBeGreaterThanOrEqual(2);

  // Composer and note form.
  await expect(page.getByRole('combobox', { name: 'Reply via' })).toBeVisible();
  await expect(page.getByRole('textbox', { name: 'Message', exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Send', exact: true })).toBeVisible();
  await expect(page.getByRole('textbox', { name: 'Private note' })).toBeVisible();

  await screenshot(page, 'conversation-ada');
});
