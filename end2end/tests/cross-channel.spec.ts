// One customer across email and SMS (issue 5), against the real mail servers and the provider
// stand-in started by scripts/e2e-server.sh: a customer emails, then texts from a number nobody
// knew; the agent links the number to her from the customer panel, which offers to merge the
// customer the text created; the timeline shows both channels; the agent moves the
// conversation to SMS with a handoff email, sees the draft converted for SMS with its segment
// count, confirms and sends; the stand-in reports it delivered; her SMS answer continues the
// same timeline; STOP makes SMS unavailable with the reason shown, and the consent section says
// so to support and marketing staff; undoing the merge gives each customer back their own.
import {
  test,
  expect,
  USERS,
  login,
  gotoApp,
  installHydrationProbe,
  conversationList,
  timeline,
  screenshot,
  uniqueSuffix,
  randomPhone,
  smtpSend,
  mailDeliveredTo,
  standinTexts,
  standinSmsSentTo,
  escapeRegExp,
  SUPPORT_MAILBOX,
  ORIGIN,
  publish,
  type DemoUser,
} from './support';
import type { Page } from '@playwright/test';

/** A plain-text email from the customer to the support mailbox. */
function plainEmail(o: { fromName: string; from: string; subject: string; id: string; body: string; inReplyTo?: string }): string {
  const thread = o.inReplyTo ? `In-Reply-To: <${o.inReplyTo}>\nReferences: <${o.inReplyTo}>\n` : '';
  return (
    `From: ${o.fromName} <${o.from}>\nTo: Shop <${SUPPORT_MAILBOX}>\nSubject: ${o.subject}\nMessage-ID: <${o.id}>\n${thread}` +
    `Date: ${new Date().toUTCString()}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n${o.body}\n`
  );
}

function customerPanel(page: Page) {
  return page.getByRole('complementary', { name: 'Customer' });
}

function consentSection(page: Page) {
  return customerPanel(page).getByRole('region', { name: 'Consent' });
}

/** The timeline's messages (articles that are not private notes) on `channel`. */
function messagesOn(page: Page, channel: string) {
  return timeline(page).locator(`article[data-channel="${channel}"]`);
}

/** A screenshot with a taller window, so the customer panel shows whole. */
async function tallScreenshot(page: Page, name: string): Promise<string> {
  const size = page.viewportSize()!;
  await page.setViewportSize({ width: size.width, height: 1500 });
  try {
    return await screenshot(page, name);
  } finally {
    await page.setViewportSize(size);
  }
}

async function signedInPage(browser: import('@playwright/test').Browser, user: DemoUser): Promise<Page> {
  const context = await browser.newContext({ baseURL: ORIGIN, viewport: { width: 1400, height: 900 } });
  await installHydrationProbe(context);
  const page = await context.newPage();
  await login(page, user);
  return page;
}

test('one customer across email and SMS: link the number, move to SMS, STOP, undo the merge', async ({ page, request, browser }) => {
  test.setTimeout(240_000);
  const s = uniqueSuffix();
  const name = 'Rita Novak';
  const email = `rita.${s}@customer.test`;
  const phone = randomPhone();
  // The agent types the number the way the customer said it; it is stored in E.164.
  const typedPhone = `+1 (${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8)}`;
  const phoneRe = escapeRegExp(phone);
  // A page whose hydration failed no longer updates (live events, forms); none may fail.
  const hydrationErrors: string[] = [];
  const watch = (p: Page) =>
    p.on('console', (m) => {
      if (/hydration error|panicked/i.test(m.text())) hydrationErrors.push(`${p.url()}: ${m.text().split('\n')[0]}`);
    });
  watch(page);
  await login(page, USERS.support);

  // 1. Rita emails, from an address nobody knows yet: a new customer and conversation.
  const firstMail = `order-${s}@customer.test`;
  await smtpSend(
    email,
    SUPPORT_MAILBOX,
    plainEmail({ fromName: name, from: email, subject: `Order ${s}`, id: firstMail, body: `Hello, my order ${s} has not arrived yet.\nRita` }),
  );
  const ritaLink = conversationList(page).getByRole('link', { name: new RegExp(`${name}.*order ${s}`) });
  await expect(ritaLink).toBeVisible({ timeout: 20_000 });

  // 2. She texts from a new number: the text creates a customer of its own, named by the number.
  const firstText = `Hi, it's Rita again about order ${s}. This is my mobile.`;
  await standinTexts(request, phone, firstText);
  // Named by the number (other conversations may mention it in their preview).
  const numberLink = conversationList(page).getByRole('link', { name: new RegExp(`^SMS \\W?${phoneRe} `) });
  await expect(numberLink).toBeVisible({ timeout: 20_000 });
  await expect(numberLink).toContainText(`order ${s}`);
  await numberLink.click();
  await expect(page).toHaveURL(/\/inbox\/\d+/);
  const numberUrl = new URL(page.url()).pathname;
  await expect(customerPanel(page).getByRole('heading', { name: phone, exact: true })).toBeVisible();

  // 3. In Rita's conversation the agent adds the number to her. It belongs to the customer the
  //    text created, so the panel offers the merge instead of failing.
  await ritaLink.click();
  await expect(page).toHaveURL(/\/inbox\/\d+/);
  const ritaUrl = new URL(page.url()).pathname;
  expect(ritaUrl).not.toBe(numberUrl);
  const panel = customerPanel(page);
  await expect(panel.getByRole('heading', { name, exact: true })).toBeVisible();
  await expect(messagesOn(page, 'email').filter({ hasText: `order ${s} has not arrived` })).toBeVisible();
  await expect(messagesOn(page, 'sms')).toHaveCount(0);
  await panel.getByLabel('Kind', { exact: true }).selectOption('phone');
  await panel.getByLabel('New identifier', { exact: true }).fill(typedPhone);
  await panel.getByRole('button', { name: 'Add identifier' }).click();
  const mergeButton = panel.getByRole('button', { name: `Merge ${phone} into this customer`, exact: true });
  await expect(mergeButton).toBeVisible({ timeout: 10_000 });
  // The reason, in words, like the page without JavaScript shows it (soft: the rest still runs).
  await expect.soft(panel.getByRole('alert'), 'the 409 explanation after "Add identifier"').toContainText(`${phone} already belongs to ${phone}`);
  const suggestion = panel.getByRole('listitem').filter({ has: page.getByRole('button', { name: `Merge ${phone} into this customer` }) });
  await expect(suggestion).toContainText(new RegExp(`tried to add the .*${phoneRe} to ${name}`));
  await expect(suggestion.getByRole('link', { name: phone, exact: true })).toHaveAttribute('href', numberUrl);
  await screenshot(page, 'cross-channel-merge-offered');

  // 4. Merge: one customer, one timeline with the email and the text in time order.
  await mergeButton.click();
  const merges = panel.getByRole('list').filter({ has: page.getByRole('button', { name: `Undo merge of ${phone}` }) });
  await expect(merges).toBeVisible({ timeout: 10_000 });
  await expect(panel.getByRole('heading', { name: 'Merged into this customer' })).toBeVisible();
  await expect(merges.getByRole('link', { name: phone, exact: true })).toHaveAttribute('href', numberUrl);
  await expect(merges).toContainText(`Merged by ${USERS.support.name}`);
  await expect(panel.locator('ul.identifiers > li[data-kind="phone"]')).toContainText(phone);
  await expect(panel.locator('ul.identifiers > li[data-kind="email"]')).toContainText(email);
  await expect(mergeButton).toHaveCount(0);
  const tl = timeline(page);
  await expect(tl.getByText(`${USERS.support.name} merged ${phone} into this customer`)).toBeVisible();
  const emailIn = messagesOn(page, 'email').filter({ hasText: `order ${s} has not arrived` });
  const smsIn = messagesOn(page, 'sms').filter({ hasText: firstText });
  await expect(emailIn).toBeVisible();
  await expect(smsIn).toBeVisible();
  const order = await tl.locator('article[data-channel]').evaluateAll((els) => els.map((e) => e.textContent ?? ''));
  expect(order.findIndex((t) => t.includes('has not arrived'))).toBeLessThan(order.findIndex((t) => t.includes(firstText)));
  publish(await tallScreenshot(page, 'cross-channel-merged'), 'cross-channel-merge.png');

  // The number's own conversation says where it went, with the same undo.
  // (The agent follows links: the page is not loaded again.)
  await merges.getByRole('link', { name: phone, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`${numberUrl}$`));
  const notice = customerPanel(page).getByRole('status');
  await expect(notice).toContainText(`This customer was merged into ${name}.`);
  await expect(customerPanel(page).getByRole('button', { name: 'Undo merge' })).toBeVisible();
  await expect(messagesOn(page, 'sms')).toHaveCount(0);
  await notice.getByRole('link', { name, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`${ritaUrl}$`));
  await expect(smsIn).toBeVisible();

  // 5. Rita follows up by email (threaded to her first message): the same timeline, live, and
  //    replies go by email again, where she wrote last.
  const followUp = `I'm travelling from tomorrow, please text me about order ${s}.`;
  await smtpSend(
    email,
    SUPPORT_MAILBOX,
    plainEmail({ fromName: name, from: email, subject: `Re: Order ${s}`, id: `followup-${s}@customer.test`, body: followUp, inReplyTo: firstMail }),
  );
  await expect(messagesOn(page, 'email').filter({ hasText: followUp })).toBeVisible({ timeout: 20_000 });
  const via = page.getByRole('combobox', { name: 'Reply via' });
  await expect(via.locator('option:checked'), 'the default reply option follows her newest message').toHaveText(/^Email · .*\(from Support mailbox\)$/, { timeout: 10_000 });

  // 6. The agent drafts the answer for email, then moves the conversation to SMS with a
  //    handoff email of her own words.
  const draft = `Hi Rita, order ${s} ships today – we’ll text you. Track it: https://shop.test/track/${s}`;
  const message = page.getByRole('textbox', { name: 'Message', exact: true });
  await message.fill(draft);
  const preview = page.getByRole('region', { name: 'Preview' });
  await expect(preview.getByRole('heading')).toHaveText('Preview: what the customer receives on Email');
  await page.getByText('Move conversation to…', { exact: true }).click();
  const moveTo = page.getByLabel('Move to', { exact: true });
  const smsOption = `SMS · ${phone} (from SMS line)`;
  await expect(moveTo.locator('option')).toContainText([smsOption]);
  await moveTo.selectOption({ label: smsOption });
  await expect(page.getByLabel(/^\s*Tell the customer on Email · /)).toBeChecked();
  const handoffBox = page.getByLabel('Handoff message', { exact: true });
  await expect(handoffBox).toHaveValue(`We'll continue this conversation by SMS at ${phone}. Please reply there.`);
  const handoff = `Hi Rita, as asked we'll continue by text message at ${phone} (order ${s}).`;
  await handoffBox.fill(handoff);
  await page.getByRole('button', { name: 'Move conversation', exact: true }).click();

  await expect(tl.getByText(new RegExp(`${USERS.support.name} moved the conversation from Email · .* to SMS · ${phoneRe}`))).toBeVisible({
    timeout: 10_000,
  });
  const handoffOut = messagesOn(page, 'email').filter({ hasText: handoff });
  await expect(handoffOut).toHaveAttribute('data-direction', 'out');
  await expect(handoffOut.locator('.delivery')).toHaveText('sent', { timeout: 20_000 });
  await expect.poll(() => mailDeliveredTo(email).map((m) => m.replace(/=\r?\n/g, '')).filter((m) => m.includes(handoff)).length, { timeout: 10_000 }).toBe(1);

  // 7. Replies now go by SMS; the draft written for email is shown converted, with the SMS
  //    segment count and the characters that force UCS-2, and must be confirmed.
  await expect(via.locator('option:checked')).toHaveText(`${smsOption} (conversation moved here)`);
  await expect(message).toHaveValue(draft);
  await expect(preview.getByRole('heading')).toHaveText('Converted from Email — what the customer receives on SMS');
  await expect(preview).toContainText(`https://shop.test/track/${s}`);
  await expect(preview).toContainText('SMS segment');
  const counter = page.locator('.composer .counter');
  await expect(counter).toContainText(`${[...draft].length} / 1600 characters (SMS limit) · 2 segments (UCS-2)`);
  const ucs2 = page.getByRole('group', { name: 'Characters that force UCS-2' });
  await expect(ucs2.getByRole('button', { name: 'Replace ’ with \'' })).toBeVisible();
  await expect(ucs2.getByRole('button', { name: 'Replace – with -' })).toBeVisible();
  const send = page.getByRole('button', { name: 'Send', exact: true });
  const confirm = page.getByRole('checkbox', { name: /Send as converted \(written for Email\)/ });
  await expect(confirm).not.toBeChecked();
  await expect(send).toBeDisabled();
  // (The move form is folded away for the picture; it stays open after a move.)
  const moveForm = page.locator('details.move-conversation');
  if (await moveForm.evaluate((d) => (d as HTMLDetailsElement).open)) await page.getByText('Move conversation to…', { exact: true }).click();
  publish(await tallScreenshot(page, 'cross-channel-move'), 'cross-channel-move.png');
  await ucs2.getByRole('button', { name: 'Replace all' }).click();
  const sent = `Hi Rita, order ${s} ships today - we'll text you. Track it: https://shop.test/track/${s}`;
  await expect(message).toHaveValue(sent);
  await expect(counter).toContainText(`${sent.length} / 1600 characters (SMS limit) · 1 segment (GSM-7)`);
  await expect(ucs2).toHaveCount(0);
  await confirm.check();
  await expect(send).toBeEnabled();
  await screenshot(page, 'cross-channel-converted-confirmed');
  await send.click();

  // 8. It goes out by SMS to her number, and the stand-in reports it delivered.
  const smsOut = messagesOn(page, 'sms').filter({ hasText: `track/${s}` });
  await expect(smsOut).toHaveAttribute('data-direction', 'out');
  await expect(smsOut.locator('.delivery')).toHaveText('delivered', { timeout: 20_000 });
  await expect(message).toHaveValue('');
  expect(await standinSmsSentTo(request, phone)).toEqual([sent]);

  // 9. Her SMS answer continues the same timeline, and replies stay on SMS.
  const answer = `Thanks! Got the tracking link for ${s}.`;
  await standinTexts(request, phone, answer);
  await expect(messagesOn(page, 'sms').filter({ hasText: answer })).toHaveAttribute('data-direction', 'in', { timeout: 20_000 });
  expect(new URL(page.url()).pathname).toBe(ritaUrl);
  await expect(via.locator('option:checked')).toHaveText(`${smsOption} (conversation moved here)`);
  await screenshot(page, 'cross-channel-sms-answer');

  // 10. STOP: SMS becomes unavailable, with the reason in the picker and when chosen.
  await standinTexts(request, phone, 'STOP');
  await expect(tl.getByText('Opted out of SMS (texted STOP)')).toBeVisible({ timeout: 20_000 });
  const smsChoice = via.locator('option', { hasText: smsOption });
  await expect(smsChoice).toContainText(/opted out \(texted STOP\).*nothing can be sent there/);
  await expect(via.locator('option:checked')).toHaveText(/^Email · /);
  await via.selectOption({ label: (await smsChoice.textContent())! });
  await expect(page.getByRole('status').filter({ hasText: `${phone} opted out (texted STOP)` })).toBeVisible();
  await message.fill('Are you still there?');
  await expect(send).toBeDisabled();
  await message.fill('');
  // Nor can the conversation be moved back to SMS.
  await expect(page.getByLabel('Move to', { exact: true }).locator('option', { hasText: 'SMS' })).toHaveCount(0);
  // The consent section shows the opt-out, for support answers and marketing, with its source.
  const phoneConsent = consentSection(page).getByRole('listitem').filter({ hasText: phone }).first();
  await expect(phoneConsent.locator('dd[data-purpose="support"][data-status="opted-out"]')).toContainText('Opted out · texted STOP');
  await expect(phoneConsent.locator('dd[data-purpose="marketing"][data-status="opted-out"]')).toContainText('Opted out · texted STOP');
  const emailConsent = consentSection(page).getByRole('listitem').filter({ hasText: email }).first();
  await expect(emailConsent.locator('dd[data-purpose="support"]')).toHaveAttribute('data-status', 'default');
  await phoneConsent.getByText(/^History \(\d+ changes?\)$/).click();
  await expect(phoneConsent.getByRole('listitem').filter({ hasText: 'Marketing opted out · texted STOP' })).toBeVisible();
  await tallScreenshot(page, 'cross-channel-stop');
  // The reason is long; the picker must still fit its column (nothing runs under the panel).
  expect
    .soft(await page.evaluate(() => document.documentElement.scrollWidth), 'page width with the opt-out reason in the picker')
    .toBeLessThanOrEqual(page.viewportSize()!.width);

  // A marketing user sees the same opt-out (and has no reply or merge controls).
  const marketing = await signedInPage(browser, USERS.marketing);
  watch(marketing);
  await gotoApp(marketing, ritaUrl);
  const mPhone = consentSection(marketing).getByRole('listitem').filter({ hasText: phone }).first();
  await expect(mPhone.locator('dd[data-purpose="marketing"]')).toHaveAttribute('data-status', 'opted-out');
  await expect(mPhone.locator('dd[data-purpose="marketing"]')).toContainText('Opted out · texted STOP');
  await expect(marketing.getByRole('combobox', { name: 'Reply via' })).toHaveCount(0);
  await expect(customerPanel(marketing).getByRole('button', { name: /Undo merge/ })).toHaveCount(0);
  await screenshot(marketing, 'cross-channel-marketing-consent');
  await marketing.context().close();

  // 11. Undo the merge: each customer gets back their own identifiers and messages, including
  //     what arrived after the merge (the text, her answer and STOP go back with the number).
  await panel.getByRole('button', { name: `Undo merge of ${phone}` }).click();
  await expect(tl.getByText(`${USERS.support.name} undid the merge of ${phone}`)).toBeVisible({ timeout: 10_000 });
  await expect(panel.getByRole('heading', { name: 'Merged into this customer' })).toHaveCount(0);
  await expect(panel.locator('ul.identifiers > li[data-kind="phone"]')).toHaveCount(0);
  await expect(panel.locator('ul.identifiers > li[data-kind="email"]')).toContainText(email);
  await expect(messagesOn(page, 'sms')).toHaveCount(0);
  await expect(messagesOn(page, 'email')).toHaveCount(3); // her two emails and the handoff
  await expect(via.locator('option', { hasText: /^SMS · / })).toHaveText([/^SMS · none — No SMS number for this customer\.$/]);
  await screenshot(page, 'cross-channel-unmerged');

  await numberLink.click();
  await expect(page).toHaveURL(new RegExp(`${numberUrl}\\?`));
  const numberPanel = customerPanel(page);
  await expect(numberPanel.getByRole('heading', { name: phone, exact: true })).toBeVisible();
  await expect(numberPanel.getByText('This customer was merged into')).toHaveCount(0);
  await expect(numberPanel.locator('ul.identifiers > li[data-kind="phone"]')).toContainText(phone);
  await expect(numberPanel.locator('ul.identifiers > li[data-kind="email"]')).toHaveCount(0);
  await expect(messagesOn(page, 'email')).toHaveCount(0);
  const smsTexts = await messagesOn(page, 'sms').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-direction')}: ${e.querySelector('.body')?.textContent ?? ''}`));
  expect(smsTexts).toEqual([`in: ${firstText}`, `out: ${sent}`, `in: ${answer}`, 'in: STOP']);
  const numberConsent = consentSection(page).getByRole('listitem').filter({ hasText: phone }).first();
  await expect(numberConsent.locator('dd[data-purpose="marketing"]')).toHaveAttribute('data-status', 'opted-out');
  await screenshot(page, 'cross-channel-number-restored');

  // The STOP's timeline event is about the number: it goes back with it, like the STOP message.
  expect.soft(await timeline(page).getByText('Opted out of SMS (texted STOP)').count(), 'STOP event in the number\'s conversation').toBe(1);
  await ritaLink.click();
  await expect(page).toHaveURL(new RegExp(`${ritaUrl}\\?`));
  await expect(messagesOn(page, 'email')).toHaveCount(3);
  expect.soft(await timeline(page).getByText('Opted out of SMS (texted STOP)').count(), 'STOP event left in Rita\'s conversation').toBe(0);

  expect(hydrationErrors, 'every page hydrated').toEqual([]);
});
