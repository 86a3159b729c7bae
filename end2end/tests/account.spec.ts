// Your account and the admin's security tools (issue 17): a new user changes their password,
// sets up two-factor sign-in by scanning (here: reading) the key, keeps their recovery codes,
// signs in with a code; the admin finds it all in the audit trail, filtered and exported; axe
// finds nothing on these screens at desktop and phone widths.
import AxeBuilder from '@axe-core/playwright';
import { type Page } from '@playwright/test';
import { test, expect, USERS, totp, installHydrationProbe, login, gotoApp, screenshot, uniqueSuffix, waitForHydration, waitForLiveStream } from './support';

const FAILING = new Set(['moderate', 'serious', 'critical']);

async function expectNoViolations(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => FAILING.has(v.impact ?? ''));
  const report = bad.map((v) => `${v.impact} ${v.id}: ${v.help} ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('\n');
  expect(bad, `${name}: axe violations\n${report}`).toEqual([]);
}

test('a user secures their account; the admin sees it in the audit trail', async ({ page, browser }) => {
  const email = `kit.${uniqueSuffix()}@example.com`;
  const first = 'first-password-1';
  const second = 'second-password-2';

  // The admin adds the user.
  await login(page, USERS.admin);
  await gotoApp(page, '/admin');
  const users = page.getByRole('region', { name: 'Users' });
  await users.getByLabel('Email', { exact: true }).fill(email);
  await users.getByLabel('Name', { exact: true }).fill('Kit Newcomer');
  await users.getByLabel('Role', { exact: true }).selectOption('support');
  await users.getByLabel('Password', { exact: true }).fill(first);
  await users.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Added Kit Newcomer' })).toBeVisible();

  // Kit changes their password from their account page (the name in the top bar).
  const kitContext = await browser.newContext();
  await installHydrationProbe(kitContext);
  const kit = await kitContext.newPage();
  await login(kit, { email, password: first, name: 'Kit Newcomer' });
  await kit.getByRole('banner').getByRole('link', { name: /Kit Newcomer/ }).click();
  await expect(kit.getByRole('heading', { name: 'Your account' })).toBeVisible();
  await waitForHydration(kit);
  await kit.getByLabel('Current password').fill(first);
  await kit.getByLabel('New password', { exact: true }).fill(second);
  await kit.getByLabel('New password again').fill(second);
  await kit.getByRole('button', { name: 'Change password' }).click();
  await expect(kit.getByRole('status').filter({ hasText: 'Password changed' })).toBeVisible();
  const sessions = kit.getByRole('region', { name: 'Where you are signed in' });
  await expect(sessions.getByText('This session')).toBeVisible();

  // Two-factor sign-in: the key, a code, the recovery codes shown once.
  await kit.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  await expect(kit.getByRole('img', { name: 'QR code of the key' })).toBeVisible();
  const key = (await kit.locator('code.totp-key').textContent())!.replace(/\s/g, '');
  expect(key).toMatch(/^[A-Z2-7]{32}$/);
  await expectNoViolations(kit, 'account with the set-up');
  await screenshot(kit, 'account-two-factor-setup');
  await kit.getByLabel('Code', { exact: true }).fill(totp(key, Date.now()));
  await kit.getByRole('button', { name: 'Turn on' }).click();
  const codes = kit.locator('.recovery-codes li');
  await expect(codes).toHaveCount(10);
  await expect(kit.getByText(/^On: you sign in with your password and a code/)).toBeVisible();
  await screenshot(kit, 'account-recovery-codes');

  // Signing in again asks for the code after the password.
  await kit.getByRole('button', { name: 'Sign out' }).click();
  await expect(kit).toHaveURL(/\/login/);
  await waitForHydration(kit);
  await kit.getByLabel('Email', { exact: true }).fill(email);
  await kit.getByLabel('Password', { exact: true }).fill(second);
  await kit.getByRole('button', { name: 'Sign in' }).click();
  await expect(kit).toHaveURL(/\/login\/code/);
  await expect(kit.getByRole('heading', { name: 'Enter your code' })).toBeVisible();
  await waitForHydration(kit);
  await expectNoViolations(kit, 'code step');
  await screenshot(kit, 'login-code');
  await kit.getByLabel('Code', { exact: true }).fill('000000');
  await kit.getByRole('button', { name: 'Continue' }).click();
  await expect(kit.getByRole('alert')).toContainText('not right');
  const live = waitForLiveStream(kit);
  // The next step's code (the one that turned it on was used already).
  await kit.getByLabel('Code', { exact: true }).fill(totp(key, Date.now() + 30_000));
  await kit.getByRole('button', { name: 'Continue' }).click();
  await expect(kit).toHaveURL(/\/inbox/, { timeout: 15_000 });
  await live;
  await kitContext.close();

  // The admin's audit trail, filtered to Kit.
  await gotoApp(page, `/admin?action=&actor=${encodeURIComponent(email)}&period=day#audit-log`);
  const trail = page.getByRole('region', { name: 'Audit trail' });
  for (const action of ['User added', 'Password changed', 'Two-factor sign-in turned on', 'Sign-in refused', 'Signed in']) {
    await expect(trail.getByRole('cell', { name: action, exact: true }).first()).toBeVisible();
  }
  await expect(trail.getByRole('link', { name: 'Export CSV' })).toHaveAttribute('href', new RegExp(`actor=${encodeURIComponent(email).replace(/\./g, '\\.')}`));
  await expect(page.getByRole('region', { name: 'Two-factor sign-in' }).getByLabel('Support')).not.toBeChecked();
  await expectNoViolations(page, 'admin with the audit trail');
  await trail.scrollIntoViewIfNeeded();
  await screenshot(page, 'admin-audit-trail');
});

test('account and the code step at phone width', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await login(page, USERS.marketing);
  await gotoApp(page, '/account');
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
  await expectNoViolations(page, 'account at 390 px');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width, 'no sideways scrolling').toBeLessThanOrEqual(390);
  await screenshot(page, 'account-390');
  await gotoApp(page, '/admin');
  await expect(page.getByText('You do not have access to this page.')).toBeVisible();

  // The code step (its form renders without a pending sign-in) and the admin's audit trail.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/login/code');
  await expect(page.getByRole('heading', { name: 'Enter your code' })).toBeVisible();
  await expectNoViolations(page, 'code step at 390 px');
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await screenshot(page, 'login-code-390');
  await login(page, USERS.admin);
  await gotoApp(page, '/admin#audit-log');
  const trail = page.getByRole('region', { name: 'Audit trail' });
  await expect(trail.getByRole('cell').first()).toBeVisible();
  await expectNoViolations(page, 'admin at 390 px');
  await trail.scrollIntoViewIfNeeded();
  await screenshot(page, 'admin-audit-390');
});
