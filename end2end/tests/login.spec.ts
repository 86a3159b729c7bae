import { test, expect, USERS, CHANNEL_LABELS, login, conversationList, distinctAttr, screenshot, waitForHydration } from './support';

test.describe('sign in and out', () => {
  test('support signs in, sees a multi-channel inbox, signs out', async ({ page }) => {
    await login(page, USERS.support);
    await expect(page).toHaveURL(/\/inbox/);

    const main = page.getByRole('navigation', { name: 'Main' });
    await expect(main.getByRole('link', { name: 'Inbox', exact: true })).toBeVisible();
    await expect(main.getByRole('link', { name: 'Playground', exact: true })).toBeVisible();
    await expect(main.getByRole('link', { name: 'Admin', exact: true })).toHaveCount(0);
    await expect(page.getByRole('banner').getByText(USERS.support.name, { exact: true })).toBeVisible();

    const links = conversationList(page).locator('a[data-channel]');
    await expect(links.first()).toBeVisible();
    const channels = await distinctAttr(links, 'data-channel');
    expect(channels.length, `distinct data-channel values in the list: ${channels.join(', ')}`).toBeGreaterThanOrEqual(3);
    for (const c of channels) expect(Object.keys(CHANNEL_LABELS)).toContain(c);

    // Each conversation link carries a channel icon named after its channel.
    const first = links.first();
    const firstChannel = (await first.getAttribute('data-channel'))!;
    await expect(first.getByLabel(CHANNEL_LABELS[firstChannel], { exact: true })).toBeVisible();

    // Filters are there.
    for (const tab of ['Open', 'Pending', 'Snoozed', 'Resolved']) {
      await expect(page.getByRole('navigation', { name: 'Status' }).getByRole('link', { name: tab, exact: true })).toBeVisible();
    }
    for (const a of ['Mine', 'Unassigned', 'All']) {
      await expect(page.getByRole('navigation', { name: 'Assignee' }).getByRole('link', { name: a, exact: true })).toBeVisible();
    }
    const channelFilter = page.getByRole('navigation', { name: 'Channel filter' });
    await expect(channelFilter.getByRole('link', { name: 'All channels', exact: true })).toBeVisible();
    await expect(channelFilter.getByRole('link', { name: 'SMS', exact: true })).toBeVisible();

    await screenshot(page, 'inbox');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login(?:[?#]|$)/, { timeout: 10_000 });
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();

    // The session is gone: the inbox sends us back to sign in.
    await page.goto('/inbox');
    await expect(page).toHaveURL(/\/login(?:[?#]|$)/);
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  });

  test('wrong password shows an error and stays on /login', async ({ page }) => {
    await page.goto('/login');
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    await waitForHydration(page);
    await screenshot(page, 'login');
    await page.getByLabel('Email', { exact: true }).fill(USERS.support.email);
    await page.getByLabel('Password', { exact: true }).fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByText('Wrong email or password.')).toBeVisible();
    await expect(page).toHaveURL(/\/login/);
    await screenshot(page, 'login-error');

    // And the user really is not signed in.
    await page.goto('/inbox');
    await expect(page).toHaveURL(/\/login(?:[?#]|$)/);
  });
});
