import { test, expect, USERS, CHANNEL_LABELS, login, conversationList, timeline, distinctAttr, screenshot } from './support';

// Runs in the ssr-no-js project: JavaScript is disabled, so everything here is server-rendered
// HTML and plain form posts (the login form posts to /api/login, which redirects).
test('without JavaScript: sign in, inbox list, conversation timeline', async ({ page }) => {
  expect(test.info().project.use.javaScriptEnabled).toBe(false);
  // The page preloads the wasm bundle even without JavaScript, but nothing may run it: the
  // client code would open the /api/events stream.
  const liveRequests: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/events') liveRequests.push(r.url());
  });

  await page.goto('/login');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await screenshot(page, 'login');

  // A wrong password comes back to the sign-in page with the reason in words (not a bare
  // error body from the form's endpoint).
  await page.getByLabel('Email', { exact: true }).fill(USERS.support.email);
  await page.getByLabel('Password', { exact: true }).fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/login\?/);
  await expect(page.getByRole('alert')).toHaveText('Wrong email or password.');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();

  await login(page, USERS.support);
  await expect(page).toHaveURL(/\/inbox/);
  await expect(page.getByRole('banner').getByText(USERS.support.name, { exact: true })).toBeVisible();

  const links = conversationList(page).locator('a[data-channel]');
  expect(await links.count(), 'server-rendered conversations').toBeGreaterThanOrEqual(3);
  const channels = await distinctAttr(links, 'data-channel');
  expect(channels.length, `channels: ${channels.join(', ')}`).toBeGreaterThanOrEqual(2);
  await screenshot(page, 'inbox');

  const grace = conversationList(page).getByRole('link', { name: /Grace Hopper/ }).first();
  await expect(grace).toBeVisible();
  await grace.click();
  await expect(page).toHaveURL(/\/inbox\/\d+/);

  const tl = timeline(page);
  await expect(tl).toBeVisible();
  const articles = tl.locator('article[data-channel]');
  expect(await articles.count(), 'server-rendered timeline messages').toBeGreaterThanOrEqual(1);
  const channel = (await articles.first().getAttribute('data-channel'))!;
  await expect(articles.first()).toContainText(CHANNEL_LABELS[channel]);
  await expect(page.getByRole('complementary', { name: 'Customer' }).getByRole('heading', { name: 'Grace Hopper' })).toBeVisible();
  await screenshot(page, 'conversation');

  // Nothing here ran the client bundle.
  expect(liveRequests, '/api/events requests with JavaScript disabled').toEqual([]);
});
