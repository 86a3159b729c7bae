import { test, expect, USERS, ORIGIN, login, gotoApp, screenshot } from './support';

test.describe('roles', () => {
  test('marketing: no Admin link, /admin refused, admin server function is 403', async ({ page }) => {
    await login(page, USERS.marketing);
    const main = page.getByRole('navigation', { name: 'Main' });
    await expect(main.getByRole('link', { name: 'Inbox', exact: true })).toBeVisible();
    await expect(main.getByRole('link', { name: 'Admin', exact: true })).toHaveCount(0);
    await expect(main.getByRole('link', { name: 'Playground', exact: true })).toHaveCount(0);
    await expect(page.getByRole('banner').getByText(USERS.marketing.name, { exact: true })).toBeVisible();

    await gotoApp(page, '/admin');
    await expect(page.getByText('You do not have access to this page.')).toBeVisible();
    await expect(page.getByRole('table')).toHaveCount(0);
    await screenshot(page, 'admin-no-access');

    const res = await page.request.post('/api/admin/users', {
      headers: { Origin: ORIGIN, Accept: 'application/json' },
    });
    expect(res.status(), `POST /api/admin/users as marketing: ${await res.text()}`).toBe(403);
  });

  test('admin: sees the Admin link and the administration page', async ({ page }) => {
    await login(page, USERS.admin);
    const adminLink = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin', exact: true });
    await expect(adminLink).toBeVisible();
    await adminLink.click();
    await expect(page).toHaveURL(/\/admin$/);
    await expect(page.getByRole('heading', { name: 'Administration' })).toBeVisible();
    // Users table lists the demo staff; channel accounts are listed too.
    const users = page.getByRole('region', { name: 'Users' });
    await expect(users.getByRole('cell', { name: USERS.support.email, exact: true })).toBeVisible();
    await expect(users.getByRole('cell', { name: USERS.marketing.email, exact: true })).toBeVisible();
    const accounts = page.getByRole('region', { name: 'Channel accounts' });
    await expect(accounts.getByRole('heading', { name: 'Channel accounts' })).toBeVisible();
    expect(await accounts.getByRole('row').count(), 'channel account rows (incl. header)').toBeGreaterThanOrEqual(2);
    await expect(page.getByRole('button', { name: 'Add user' })).toBeVisible();
    await screenshot(page, 'admin');

    // The same server function the marketing user was refused answers for an admin.
    const res = await page.request.post('/api/admin/users', {
      headers: { Origin: ORIGIN, Accept: 'application/json' },
    });
    expect(res.status(), `POST /api/admin/users as admin: ${await res.text()}`).toBe(200);
    expect(await res.text()).toContain(USERS.support.email);
  });
});
