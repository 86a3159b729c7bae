// Without JavaScript: the account page's forms post and come back, and signing in with a
// two-factor code works as plain forms (issue 17).
import { test, expect, USERS, ORIGIN, totp, uniqueSuffix } from './support';

async function signIn(page: import('@playwright/test').Page, email: string, password: string) {
  await page.goto('/login');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('two-factor sign-in without JavaScript', async ({ page, playwright }) => {
  const email = `nojs.${uniqueSuffix()}@example.com`;
  const password = 'nojs-password-1';
  // The admin adds the user through the server function (the admin page is tested elsewhere).
  const api = await playwright.request.newContext({ baseURL: ORIGIN, extraHTTPHeaders: { Origin: ORIGIN, Accept: 'application/json' } });
  let r = await api.post('/api/login', { form: { email: USERS.admin.email, password: USERS.admin.password } });
  expect(r.ok()).toBeTruthy();
  r = await api.post('/api/admin/users/create', { form: { email, name: 'Noor Nojs', role: 'marketing', password } });
  expect(r.ok(), await r.text()).toBeTruthy();

  // Noor sets up two factors with plain forms.
  await signIn(page, email, password);
  await expect(page).toHaveURL(/\/inbox/);
  await page.goto('/account');
  await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  await expect(page.getByRole('img', { name: 'QR code of the key' })).toBeVisible();
  const key = (await page.locator('code.totp-key').textContent())!.replace(/\s/g, '');
  await page.getByLabel('Code', { exact: true }).fill(totp(key, Date.now()));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await expect(page.getByText(/^On: you sign in with your password and a code/)).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();

  // The password, then the code.
  await signIn(page, email, password);
  await expect(page).toHaveURL(/\/login\/code/);
  await page.getByLabel('Code', { exact: true }).fill(totp(key, Date.now() + 30_000));
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/inbox/);
  await expect(page.getByRole('banner').getByText('Noor Nojs')).toBeVisible();
  await api.dispose();
});
