// Without JavaScript: campaigns and their pages are readable (the list, a campaign with its
// audience conditions), the editor says it needs JavaScript, and support users are refused.
import { test, expect, USERS, login, screenshot } from './support';

test('campaigns can be read without JavaScript; support has no access', async ({ page }) => {
  await login(page, USERS.marketing);
  await page.goto('/campaigns');
  await expect(page.getByRole('heading', { name: 'Campaigns', level: 1 })).toBeVisible();
  const row = page.getByRole('row', { name: /Holiday opening hours/ });
  await expect(row).toContainText('Draft');
  await expect(row).toContainText('Morgan Marketing');
  await row.getByRole('link', { name: 'Holiday opening hours' }).click();
  await expect(page.getByRole('heading', { name: 'Holiday opening hours', level: 1 })).toBeVisible();
  await expect(page.getByText('Transactional · drafted by Morgan Marketing')).toBeVisible();
  await expect(page.getByText('Drafting, approving and sending need JavaScript')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Approve' })).toHaveCount(0);
  // What it says, in words: the audience, how it is sent, each channel's text.
  const summary = page.getByRole('region', { name: 'What it says' });
  await expect(summary).toContainText('Audience: every customer');
  await expect(summary).toContainText("Tries the customer's preferred channel, then Email, then SMS");
  await expect(summary).toContainText('Quiet from 21:00 to 09:00');
  await expect(summary).toContainText('Our opening hours over the holidays');
  await expect(summary).toContainText('orders placed then ship on the 27th');
  await screenshot(page, 'campaign-nojs');
});

test('support users are refused the campaigns pages', async ({ page }) => {
  await login(page, USERS.support);
  const r = await page.goto('/campaigns');
  expect(r?.status()).toBe(403);
  await expect(page.getByText('You do not have access to this page.')).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Campaigns' })).toHaveCount(0);
});
