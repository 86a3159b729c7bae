// The admin connects messaging accounts (Twilio SMS, Telegram): shared by
// provider-accounts.spec.ts (hydrated) and provider-accounts.nojs.spec.ts (JavaScript off,
// plain form posts and redirects).
import { type Page } from '@playwright/test';
import { test, expect, USERS, ORIGIN, login, gotoApp, jsEnabled, screenshot, uniqueSuffix, randomPhone } from './support';

function channels(page: Page) {
  return page.getByRole('region', { name: 'Channel accounts' });
}

/** The provider account form, named by its heading ("Add account: …" / "Edit account: …"). */
function providerForm(page: Page, heading: RegExp) {
  return channels(page).getByRole('form', { name: heading });
}

/** Every place a secret could leak to: the server-rendered page and the DOM. */
async function expectNoSecret(page: Page, secrets: string[]): Promise<void> {
  const url = new URL(page.url());
  const html = await (await page.request.get(url.pathname + url.search, { headers: { Accept: 'text/html' } })).text();
  const dom = await page.content();
  for (const s of secrets) {
    expect(html, `server HTML of ${url.pathname}${url.search}`).not.toContain(s);
    expect(dom, 'page DOM').not.toContain(s);
  }
}

/** Clicks Save and, after the redirect to the saved account's form, answers its id. */
async function saveAndGetId(page: Page, form: ReturnType<typeof providerForm>): Promise<string> {
  await form.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\?edit_provider=\d+/);
  return new URL(page.url()).searchParams.get('edit_provider')!;
}

export async function addAndEditProviderAccounts(page: Page): Promise<void> {
  test.setTimeout(90_000);
  const js = jsEnabled();
  const suffix = uniqueSuffix();
  const smsName = `SMS ${suffix}`;
  const renamed = `Renamed SMS ${suffix}`;
  const botName = `Bot ${suffix}`;
  const authToken = `tw-auth-${suffix}`;
  const botToken = `4242:tg-token-${suffix}`;
  const secrets = [authToken, botToken];
  const phone = randomPhone();

  // Every server function answer the page receives, checked for secrets at the end.
  const answers: Promise<string>[] = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/admin/channels')) answers.push(r.text().catch(() => ''));
  });
  const hydrationErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /hydrat|panicked/i.test(m.text())) hydrationErrors.push(m.text());
  });
  if (js) await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ORIGIN });

  await login(page, USERS.admin);
  await gotoApp(page, '/admin');
  const section = channels(page);
  await section.getByRole('navigation', { name: 'Add an account' }).getByRole('link', { name: 'SMS/MMS (Twilio-compatible)' }).click();
  await expect(page).toHaveURL(/\/admin\?add=twilio/);
  const add = providerForm(page, /^Add account: SMS\/MMS/);
  await expect(add).toBeVisible();
  // The spec's defaults, and help bound to its field.
  await expect(add.getByLabel('API base URL', { exact: true })).toHaveValue('https://api.twilio.com');
  await expect(add.getByLabel('Default region', { exact: true })).toHaveValue('US');
  await expect(add.getByLabel('Phone number', { exact: true })).toHaveAccessibleDescription(/e\.g\. \+15550100000/);
  await expect(add.getByLabel('Auth token', { exact: true })).toHaveAttribute('type', 'password');
  await expect(add.getByText('The webhook URL appears here once the account is saved.')).toBeVisible();

  const fillTwilio = async (phoneNumber: string) => {
    await add.getByLabel('Name', { exact: true }).fill(smsName);
    await add.getByLabel('Phone number', { exact: true }).fill(phoneNumber);
    await add.getByLabel('Account SID', { exact: true }).fill('AC0123456789abcdef0123456789abcdef');
    await add.getByLabel('Auth token', { exact: true }).fill(authToken);
    // Nothing listens there: a connection test fails in words, whatever the adapter.
    await add.getByLabel('API base URL', { exact: true }).fill('http://127.0.0.1:1');
    await add.getByLabel('Default region', { exact: true }).fill('gb');
  };

  // Refused in words, next to the form (without JavaScript: after the redirect back).
  await fillTwilio('call me maybe');
  await add.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(add.getByRole('alert').filter({ hasText: 'is not a phone number' })).toBeVisible();
  await expect(section.getByRole('row').filter({ hasText: smsName })).toHaveCount(0);

  if (!js) await fillTwilio(phone);
  else await add.getByLabel('Phone number', { exact: true }).fill(phone);
  if (js) {
    await add.getByRole('button', { name: 'Test connection' }).click();
    await expect(add.getByRole('alert').filter({ hasText: 'Connection failed' })).toBeVisible({ timeout: 20_000 });
    await expect(add.getByLabel('Auth token', { exact: true })).toHaveValue(authToken);
  }
  const smsId = await saveAndGetId(page, add);

  // The saved account's form: the webhook URL ready to copy, where it goes, no secret.
  const edit = providerForm(page, /^Edit account: SMS\/MMS/);
  await expect(edit).toBeVisible();
  if (js) await expect(edit.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  const webhook = `${ORIGIN}/webhooks/twilio/${smsId}`;
  const webhookInput = edit.getByLabel('Webhook URL', { exact: true });
  await expect(webhookInput).toHaveValue(webhook);
  await expect(webhookInput).toHaveAttribute('readonly', '');
  await expect(edit.getByLabel('Status callback URL', { exact: true })).toHaveValue(`${webhook}/status`);
  await expect(edit.getByText('A message comes in (HTTP POST)')).toBeVisible();
  await expect(edit.getByLabel('Phone number', { exact: true })).toHaveValue(phone);
  await expect(edit.getByLabel('Default region', { exact: true })).toHaveValue('GB');
  const token = edit.getByLabel('Auth token', { exact: true });
  await expect(token).toHaveValue('');
  await expect(token).toHaveAttribute('placeholder', 'Saved — leave blank to keep');
  await expect(token).toHaveAccessibleDescription(/Saved — leave blank to keep/);
  const copy = edit.getByRole('button', { name: 'Copy Webhook URL' });
  if (js) {
    await copy.click();
    await expect(edit.getByRole('status').filter({ hasText: 'Copied.' })).toBeVisible();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(webhook);
  } else {
    // Without JavaScript the URL is selected by hand; a button that cannot work is not shown.
    await expect(copy).toBeHidden();
  }
  const row = section.getByRole('row').filter({ hasText: smsName });
  await expect(row).toContainText(phone);
  await expect(row.getByLabel('Webhook URL', { exact: true })).toHaveValue(webhook);
  await expectNoSecret(page, secrets);
  await screenshot(page, 'provider-form');

  // Edit: a bad number is refused in words; blank secrets keep the saved ones.
  await edit.getByLabel('Name', { exact: true }).fill(renamed);
  await edit.getByLabel('Phone number', { exact: true }).fill('12');
  await edit.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(edit.getByRole('alert').filter({ hasText: 'is not a phone number' })).toBeVisible();
  await expect(section.getByRole('row').filter({ hasText: renamed })).toHaveCount(0);
  if (!js) await edit.getByLabel('Name', { exact: true }).fill(renamed);
  await edit.getByLabel('Phone number', { exact: true }).fill(phone);
  expect(await saveAndGetId(page, edit)).toBe(smsId);
  await expect(section.getByRole('row').filter({ hasText: renamed })).toBeVisible();
  await expect(edit.getByLabel('Name', { exact: true })).toHaveValue(renamed);
  await expect(edit.getByLabel('Auth token', { exact: true })).toHaveAttribute('placeholder', 'Saved — leave blank to keep');

  // A Telegram bot: its webhook secret is left blank and generated.
  await section.getByRole('navigation', { name: 'Add an account' }).getByRole('link', { name: 'Telegram bot' }).click();
  const addBot = providerForm(page, /^Add account: Telegram bot/);
  await expect(addBot).toBeVisible();
  await expect(addBot.getByLabel('Webhook secret', { exact: true })).toHaveAccessibleDescription(/Leave blank to generate one/);
  await addBot.getByLabel('Name', { exact: true }).fill(botName);
  await addBot.getByLabel('Bot username', { exact: true }).fill(`@e2e_${suffix}_bot`);
  await addBot.getByLabel('Bot token', { exact: true }).fill(botToken);
  const botId = await saveAndGetId(page, addBot);
  const editBot = providerForm(page, /^Edit account: Telegram bot/);
  await expect(editBot.getByLabel('Webhook URL', { exact: true })).toHaveValue(`${ORIGIN}/webhooks/telegram/${botId}`);
  await expect(editBot.getByLabel('Bot username', { exact: true })).toHaveValue(`e2e_${suffix}_bot`);
  await expect(editBot.getByLabel('Webhook secret', { exact: true })).toHaveAttribute('placeholder', 'Saved — leave blank to keep');
  await expect(section.getByRole('row').filter({ hasText: botName })).toContainText('Telegram');
  await expectNoSecret(page, secrets);

  expect(hydrationErrors, 'hydration errors').toEqual([]);
  for (const body of await Promise.all(answers)) {
    for (const s of secrets) expect(body, 'a server function answer').not.toContain(s);
  }
}
