// The admin connects an email mailbox: shared by email-accounts.spec.ts (hydrated) and
// email-accounts.nojs.spec.ts (JavaScript off, plain form posts and redirects).
import { type Page } from '@playwright/test';
import { test, expect, USERS, login, gotoApp, jsEnabled, screenshot, uniqueSuffix } from './support';

function channels(page: Page) {
  return page.getByRole('region', { name: 'Channel accounts' });
}

function field(page: Page, label: string) {
  return channels(page).getByLabel(label, { exact: true });
}

/** Every place the passwords could leak to: the server-rendered page and the DOM. */
async function expectNoPassword(page: Page, secrets: string[], url: string): Promise<void> {
  const html = await (await page.request.get(url, { headers: { Accept: 'text/html' } })).text();
  const dom = await page.content();
  for (const s of secrets) {
    expect(html, `server HTML of ${url}`).not.toContain(s);
    expect(dom, 'page DOM').not.toContain(s);
  }
}

export async function addAndEditEmailAccount(page: Page): Promise<void> {
  test.setTimeout(90_000);
  const js = jsEnabled();
  const suffix = uniqueSuffix();
  const name = `Mailbox ${suffix}`;
  const renamed = `Renamed ${suffix}`;
  const address = `support-${suffix}@example.com`;
  const imapPassword = `imap-pw-${suffix}`;
  const smtpPassword = `smtp-pw-${suffix}`;
  const secrets = [imapPassword, smtpPassword];

  // Every server function answer the page receives, checked for passwords at the end.
  const answers: Promise<string>[] = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/admin/channels')) answers.push(r.text().catch(() => ''));
  });

  // The hydrated page must take over the server's HTML as it is.
  const hydrationErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /hydrat|panicked/i.test(m.text())) hydrationErrors.push(m.text());
  });

  await login(page, USERS.admin);
  await gotoApp(page, '/admin');
  const section = channels(page);
  await expect(section.getByRole('heading', { name: 'Add email account' })).toBeVisible();
  await expect(field(page, 'IMAP port')).toHaveValue('993');
  await expect(field(page, 'Folder')).toHaveValue('INBOX');

  const fillForm = async (imapHost: string) => {
    await field(page, 'Name').fill(name);
    await field(page, 'From address').fill(address);
    await field(page, 'From name').fill('Example Support');
    await field(page, 'IMAP host').fill(imapHost);
    await field(page, 'IMAP port').fill('1');
    await field(page, 'IMAP security').selectOption('none');
    await field(page, 'IMAP user').fill(address);
    await field(page, 'IMAP password').fill(imapPassword);
    await field(page, 'First import').selectOption('since');
    await field(page, 'Import since').fill('2026-01-31');
    await field(page, 'SMTP host').fill('127.0.0.1');
    await field(page, 'SMTP port').fill('1');
    await field(page, 'SMTP security').selectOption('none');
    await field(page, 'SMTP user').fill(address);
    await field(page, 'SMTP password').fill(smtpPassword);
  };

  // Refused in words, next to the form (without JavaScript: after the redirect back).
  await fillForm('bad host');
  await section.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(section.getByRole('alert').filter({ hasText: 'not a host name' })).toBeVisible();
  await expect(section.getByRole('row').filter({ hasText: name })).toHaveCount(0);

  if (!js) await fillForm('127.0.0.1');
  else await field(page, 'IMAP host').fill('127.0.0.1');
  if (js) {
    // Nothing listens on port 1: the mail servers' words come back next to the form.
    await section.getByRole('button', { name: 'Test connection' }).click();
    await expect(section.getByRole('alert').filter({ hasText: 'Connection failed' })).toBeVisible({ timeout: 20_000 });
    await expect(field(page, 'IMAP password')).toHaveValue(imapPassword);
  }

  await section.getByRole('button', { name: 'Save', exact: true }).click();
  const row = section.getByRole('row').filter({ hasText: name });
  await expect(row).toBeVisible();
  await expect(row).toContainText(address);
  await expect(row).toContainText('Email');
  if (js) await expect(section.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  // The form is ready for another mailbox.
  await expect(field(page, 'Name')).toHaveValue('');
  await expectNoPassword(page, secrets, '/admin');
  await screenshot(page, 'admin-channels');

  // Edit: the form is prefilled, the passwords are not; blank keeps them.
  await row.getByRole('link', { name: 'Edit' }).click();
  await expect(page).toHaveURL(/\/admin\?edit=\d+/);
  await expect(section.getByRole('heading', { name: 'Edit email account' })).toBeVisible();
  await expect(field(page, 'Name')).toHaveValue(name);
  await expect(field(page, 'IMAP host')).toHaveValue('127.0.0.1');
  await expect(field(page, 'IMAP security')).toHaveValue('none');
  await expect(field(page, 'First import')).toHaveValue('since');
  await expect(field(page, 'Import since')).toHaveValue('2026-01-31');
  for (const label of ['IMAP password', 'SMTP password']) {
    await expect(field(page, label)).toHaveValue('');
    await expect(field(page, label)).toHaveAttribute('placeholder', /Password saved; blank keeps it/);
  }
  const editUrl = new URL(page.url()).pathname + new URL(page.url()).search;
  await expectNoPassword(page, secrets, editUrl);
  await screenshot(page, 'admin-channels-edit');

  await field(page, 'Name').fill(renamed);
  await section.getByRole('button', { name: 'Save', exact: true }).click();
  const renamedRow = section.getByRole('row').filter({ hasText: renamed });
  await expect(renamedRow).toBeVisible();
  await expect(field(page, 'Name')).toHaveValue(renamed);
  // Still saved after a save with blank password fields.
  await expect(field(page, 'IMAP password')).toHaveAttribute('placeholder', /Password saved; blank keeps it/);
  await expect(field(page, 'SMTP password')).toHaveAttribute('placeholder', /Password saved; blank keeps it/);

  // Disable and enable again.
  await renamedRow.getByRole('button', { name: 'Disable' }).click();
  await expect(renamedRow.getByRole('button', { name: 'Enable' })).toBeVisible();
  await expect(renamedRow).toContainText('Disabled');
  await renamedRow.getByRole('button', { name: 'Enable' }).click();
  await expect(renamedRow.getByRole('button', { name: 'Disable' })).toBeVisible();

  await expectNoPassword(page, secrets, '/admin');
  expect(hydrationErrors, 'hydration errors').toEqual([]);
  for (const body of await Promise.all(answers)) {
    for (const s of secrets) expect(body, 'a server function answer').not.toContain(s);
  }
}
