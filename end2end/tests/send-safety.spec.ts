// Never send the wrong thing (issue 12): the Move panel closes after a move and its handoff
// text follows the chosen target; a move to the channel the conversation is on is not offered;
// three clicks on Send store one message; an error goes once the input it is about changes;
// the list says "You:" only for the signed-in agent's own messages; a stranger who quoted our
// mail is never the default reply target and a reply to them must be confirmed.
import {
  test,
  expect,
  USERS,
  login,
  gotoApp,
  installHydrationProbe,
  conversationList,
  timeline,
  uniqueSuffix,
  randomPhone,
  smtpSend,
  escapeRegExp,
  SUPPORT_MAILBOX,
  ORIGIN,
} from './support';
import type { Page } from '@playwright/test';

function customerPanel(page: Page) {
  return page.getByRole('complementary', { name: 'Customer' });
}

/** A customer writes by email through the playground; the agent opens the conversation. */
async function customerEmails(page: Page, name: string, email: string, text: string): Promise<string> {
  const r = await page.request.post('/api/playground/send', {
    headers: { Origin: ORIGIN, Accept: 'application/json' },
    form: { channel: 'email', identifier: email, name, body: text },
  });
  expect(r.ok(), await r.text()).toBeTruthy();
  const link = conversationList(page).getByRole('link', { name: new RegExp(escapeRegExp(name)) });
  await expect(link).toBeVisible({ timeout: 20_000 });
  await link.click();
  await expect(page).toHaveURL(/\/inbox\/\d+/);
  await expect(timeline(page).locator('article[data-direction="in"]', { hasText: text })).toBeVisible();
  return new URL(page.url()).pathname;
}

async function addPhone(page: Page, phone: string) {
  const panel = customerPanel(page);
  await panel.getByLabel('Kind', { exact: true }).selectOption('phone');
  await panel.getByLabel('New identifier', { exact: true }).fill(phone);
  await panel.getByRole('button', { name: 'Add identifier' }).click();
  await expect(panel.locator('ul.identifiers > li[data-kind="phone"]')).toContainText(phone, { timeout: 10_000 });
}

const moveDetails = (page: Page) => page.locator('details.move-conversation');
const isOpen = (page: Page) => moveDetails(page).evaluate((d) => (d as HTMLDetailsElement).open);

test('moving twice: the panel closes, the second move offers only another channel, its handoff names it', async ({ page }) => {
  const s = uniqueSuffix();
  const name = `Mona Move ${s}`;
  const email = `mona.${s}@customer.test`;
  const phone = randomPhone();
  await login(page, USERS.support);
  await customerEmails(page, name, email, `Where is parcel ${s}?`);
  await addPhone(page, phone);

  // First move: to SMS, with the standard words for SMS.
  await page.getByText('Move conversation to…', { exact: true }).click();
  expect(await isOpen(page)).toBe(true);
  const moveTo = page.getByLabel('Move to', { exact: true });
  const handoffBox = page.getByLabel('Handoff message', { exact: true });
  // Only channels other than email (where the conversation is) are offered.
  await expect(moveTo.locator('option', { hasText: /^Email · / })).toHaveCount(0);
  const smsOptions = moveTo.locator('option', { hasText: /^SMS · / });
  expect(await smsOptions.count()).toBeGreaterThan(0);
  const smsLabel = (await smsOptions.first().textContent())!;
  await moveTo.selectOption({ label: smsLabel });
  await expect(handoffBox).toHaveValue(`We'll continue this conversation by SMS at ${phone}. Please reply there.`);
  // An edit for one target is dropped when the target changes: the text must name the target.
  if ((await smsOptions.count()) > 1) {
    await handoffBox.fill('Words for the first SMS line');
    await moveTo.selectOption({ label: (await smsOptions.nth(1).textContent())! });
    await expect(handoffBox).toHaveValue(`We'll continue this conversation by SMS at ${phone}. Please reply there.`);
    await moveTo.selectOption({ label: smsLabel });
  }
  await page.getByRole('button', { name: 'Move conversation', exact: true }).click();
  const tl = timeline(page);
  const phoneRe = escapeRegExp(phone);
  await expect(tl.getByText(new RegExp(`moved the conversation from Email · ${escapeRegExp(email)} to SMS · ${phoneRe}`))).toBeVisible({
    timeout: 10_000,
  });

  // The panel closed; opened again it starts from the new channel.
  await expect.poll(() => isOpen(page)).toBe(false);
  await page.getByText('Move conversation to…', { exact: true }).click();
  await expect(moveTo.locator('option', { hasText: /^SMS · / }), 'no move from SMS to SMS').toHaveCount(0);
  // (The test server has two email accounts, so the address may be offered through each.)
  await expect(moveTo.locator('option', { hasText: /^Email · / }).first()).toBeAttached();
  await expect(page.getByLabel(/^\s*Tell the customer on SMS · /)).toBeChecked();
  await expect(handoffBox).toHaveValue(`We'll continue this conversation by email at ${email}. Please reply there.`);
  await page.getByRole('button', { name: 'Move conversation', exact: true }).click();
  await expect(tl.getByText(new RegExp(`moved the conversation from SMS · ${phoneRe} to Email · ${escapeRegExp(email)}`))).toBeVisible({
    timeout: 10_000,
  });
  // The second handoff went out on SMS and names email.
  await expect(tl.locator('article[data-channel="sms"][data-direction="out"]', { hasText: 'by email at' })).toBeVisible();
  await expect(tl.locator('article[data-channel="sms"][data-direction="out"]', { hasText: 'by SMS at' })).toHaveCount(0);
  await expect(tl.getByText(/moved the conversation from SMS · .* to SMS · /)).toHaveCount(0);
  await expect.poll(() => isOpen(page)).toBe(false);
});

test('three clicks on Send within one tick store one message', async ({ page }) => {
  const s = uniqueSuffix();
  const name = `Dora Double ${s}`;
  await login(page, USERS.support);
  await customerEmails(page, name, `dora.${s}@customer.test`, `Question ${s}`);
  const text = `Answer once ${s}`;
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(text);
  const send = page.getByRole('button', { name: 'Send', exact: true });
  await expect(send).toBeEnabled();
  await send.evaluate((b) => {
    (b as HTMLButtonElement).click();
    (b as HTMLButtonElement).click();
    (b as HTMLButtonElement).click();
  });
  const out = timeline(page).locator('article[data-direction="out"]', { hasText: text });
  await expect(out).toHaveCount(1, { timeout: 10_000 });
  await expect(page.getByRole('textbox', { name: 'Message', exact: true })).toHaveValue('');
  // Give the other requests time to land: still one.
  await page.waitForTimeout(1_500);
  await gotoApp(page, new URL(page.url()).pathname);
  await expect(timeline(page).locator('article[data-direction="out"]', { hasText: text })).toHaveCount(1);
  // The next draft is a new message.
  const next = `And a second one ${s}`;
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(next);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(timeline(page).locator('article[data-direction="out"]', { hasText: next })).toHaveCount(1, { timeout: 10_000 });
});

test('an error goes once the input it is about changes', async ({ page }) => {
  const s = uniqueSuffix();
  await login(page, USERS.support);
  await customerEmails(page, `Stella Stale ${s}`, `stella.${s}@customer.test`, `Hello ${s}`);
  const composer = page.locator('form.composer').last();
  // The message is empty.
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill('   ');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const alert = composer.getByRole('alert');
  await expect(alert).toContainText('the message is empty');
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill('Now with words');
  await expect(alert).toHaveCount(0);

  // An identifier error in the customer panel.
  const panel = customerPanel(page);
  await panel.getByLabel('Kind', { exact: true }).selectOption('phone');
  await panel.getByLabel('New identifier', { exact: true }).fill('not a number');
  await panel.getByRole('button', { name: 'Add identifier' }).click();
  const panelAlert = panel.getByRole('alert');
  await expect(panelAlert).toBeVisible({ timeout: 10_000 });
  await panel.getByLabel('New identifier', { exact: true }).fill('+1 555');
  await expect(panelAlert).toHaveCount(0);
});

test('the counter counts what the preview shows', async ({ page }) => {
  const s = uniqueSuffix();
  const phone = randomPhone();
  await login(page, USERS.support);
  await customerEmails(page, `Carl Count ${s}`, `carl.${s}@customer.test`, `Hi ${s}`);
  await addPhone(page, phone);
  const via = page.getByRole('combobox', { name: 'Reply via' });
  const smsLabel = (await via.locator('option', { hasText: new RegExp(`^SMS · ${escapeRegExp(phone)}`) }).first().textContent())!;
  await via.selectOption({ label: smsLabel });
  // 1,600 characters and blank lines the conversion drops: within the limit, as sent.
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill('a'.repeat(1600) + '\n\n\n\n   ');
  const counter = page.locator('.composer .counter');
  await expect(counter).toContainText('1600 / 1600 characters (SMS limit)');
  await expect(counter).not.toHaveClass(/over/);
  await expect(page.getByRole('region', { name: 'Preview' })).not.toContainText('Over the SMS limit');
  await expect(page.getByRole('button', { name: 'Send', exact: true })).toBeEnabled();
});

test('the list says "You:" only for my own messages, other agents by name', async ({ page, browser }) => {
  const s = uniqueSuffix();
  const name = `Yvonne You ${s}`;
  await login(page, USERS.support);
  await customerEmails(page, name, `yvonne.${s}@customer.test`, `Hi there ${s}`);
  const text = `Reply from Sam ${s}`;
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const item = conversationList(page).getByRole('link', { name: new RegExp(escapeRegExp(name)) });
  await expect(item.locator('.preview')).toHaveText(`You: ${text}`, { timeout: 10_000 });

  const context = await browser.newContext({ baseURL: ORIGIN, viewport: { width: 1400, height: 900 } });
  await installHydrationProbe(context);
  const other = await context.newPage();
  await login(other, USERS.support2);
  const theirs = conversationList(other).getByRole('link', { name: new RegExp(escapeRegExp(name)) });
  await expect(theirs.locator('.preview')).toHaveText(`${USERS.support.name}: ${text}`);
  await expect(theirs.locator('.preview')).not.toContainText('You:');
  await context.close();
});

test('a stranger who quoted our mail is never the default, is marked, and a reply to them must be confirmed', async ({ page }) => {
  test.setTimeout(90_000);
  const s = uniqueSuffix();
  const name = `Una Verified ${s}`;
  const email = `una.${s}@customer.test`;
  const stranger = `eve.${s}@elsewhere.test`;
  const firstId = `una-${s}@customer.test`;
  await login(page, USERS.support);
  const date = new Date().toUTCString();
  await smtpSend(
    email,
    SUPPORT_MAILBOX,
    `From: ${name} <${email}>\nTo: Shop <${SUPPORT_MAILBOX}>\nSubject: Refund ${s}\nMessage-ID: <${firstId}>\nDate: ${date}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nPlease refund order ${s}.\n`,
  );
  const link = conversationList(page).getByRole('link', { name: new RegExp(escapeRegExp(name)) });
  await expect(link).toBeVisible({ timeout: 30_000 });
  // Someone Una forwarded the thread to writes, quoting her Message-ID.
  const theirs = `Send the refund for ${s} to my account instead`;
  await smtpSend(
    stranger,
    SUPPORT_MAILBOX,
    `From: Eve <${stranger}>\nTo: Shop <${SUPPORT_MAILBOX}>\nSubject: Re: Refund ${s}\nMessage-ID: <eve-${s}@elsewhere.test>\nIn-Reply-To: <${firstId}>\nReferences: <${firstId}>\nDate: ${date}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n${theirs}\n`,
  );
  // The list says whose words these are.
  await expect(link.locator('.preview')).toHaveText(`${stranger} (unverified): ${theirs}`, { timeout: 30_000 });
  await link.click();
  await expect(timeline(page).locator('article[data-direction="in"]', { hasText: theirs })).toBeVisible();
  const via = page.getByRole('combobox', { name: 'Reply via' });
  await expect(via.locator('option:checked')).toHaveText(new RegExp(`^Email · ${escapeRegExp(email)} `));
  // Offered through each email account of the test server, and marked on every one.
  const strangerOptions = via.locator('option', { hasText: stranger });
  await expect(strangerOptions.first()).toBeAttached();
  for (const o of await strangerOptions.all()) await expect(o).toContainText('unverified');
  const strangerOption = strangerOptions.first();
  await expect(page.getByLabel('Move to', { exact: true }).locator('option', { hasText: stranger })).toHaveCount(0);
  // Chosen: Send waits for the explicit confirmation.
  await via.selectOption({ label: (await strangerOption.textContent())! });
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(`Who are you? ${s}`);
  const send = page.getByRole('button', { name: 'Send', exact: true });
  await expect(send).toBeDisabled();
  await page.locator('#reply-confirm-unverified').check();
  await expect(send).toBeEnabled();
  await send.click();
  await expect(timeline(page).locator('article[data-direction="out"]', { hasText: `Who are you? ${s}` })).toBeVisible({ timeout: 10_000 });
  // The next reply opens on Una's own address again.
  await expect(via.locator('option:checked')).toHaveText(new RegExp(`^Email · ${escapeRegExp(email)} `));
});
