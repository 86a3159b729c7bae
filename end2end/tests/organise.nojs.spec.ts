// Without JavaScript: the search form and its results, filters shown in words.
import { test, expect, USERS, login, screenshot } from './support';

test('the search form and results work without JavaScript', async ({ page }) => {
  await login(page, USERS.support);
  const box = page.getByRole('searchbox', { name: 'Search conversations' });
  await box.fill('invoice status:open colour:red');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page).toHaveURL(/\/inbox\?q=invoice/);
  const results = page.getByRole('navigation', { name: 'Search results' });
  await expect(results.getByRole('link', { name: /Grace Hopper/ })).toBeVisible();
  await expect(results.locator('mark').first()).toHaveText(/invoice/i);
  await expect(page.getByText('status: Open')).toBeVisible();
  await expect(page.getByText('colour:red')).toBeVisible();
  await screenshot(page, 'search-nojs');
  // A phone number typed with spaces finds its customer.
  await page.goto('/inbox?q=%2B1+415+555+0101');
  await expect(results.getByRole('link', { name: /Ada Lovelace/ })).toBeVisible();
  // Nothing to search: an answer, not an error page.
  await page.goto('/inbox?q=%22');
  await expect(page.getByText('No conversations match.')).toBeVisible();
});
