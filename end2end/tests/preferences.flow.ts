// The customer's preference center (issue 18), shared by preferences.spec.ts (the agent's page
// hydrated: every change shows live, without a reload) and preferences.nojs.spec.ts (JavaScript
// off: plain form posts, the agent reloads to see changes). The customer's page is the same in
// both: a plain server-rendered page with no scripts, opened on a phone.
//
// A customer emails support (real SMTP, imported by IMAP); the agent adds her mobile number as a
// phone and a WhatsApp identifier, she texts START to the SMS line (support and marketing by SMS
// granted); the agent answers by email. The customer opens the link in that email on her phone,
// switches off news and offers by SMS, prefers WhatsApp, sets quiet hours in her time zone and a
// marketing limit, then adds a second email address with the code sent to it. The agent's panel,
// timeline and composer reflect each change.
import AxeBuilder from '@axe-core/playwright';
import type { APIRequestContext, Browser, Locator, Page } from '@playwright/test';
import {
  test,
  expect,
  USERS,
  ORIGIN,
  SUPPORT_MAILBOX,
  login,
  jsEnabled,
  installHydrationProbe,
  conversationList,
  timeline,
  screenshot,
  publish,
  uniqueSuffix,
  randomPhone,
  smtpSend,
  mailDeliveredTo,
  standinTexts,
  escapeRegExp,
} from './support';

const FAILING = new Set(['moderate', 'serious', 'critical']);

/**
 * axe-core finds no moderate, serious or critical violation on the page as it is. axe runs in
 * the page, so with JavaScript off it checks a copy of the page's HTML (the preference center
 * has no scripts: the copy is the same page) in a browser with JavaScript on.
 */
async function expectNoViolations(page: Page, name: string): Promise<void> {
  if (!jsEnabled()) {
    const copy = await page.context().browser()!.newContext({ viewport: page.viewportSize()!, javaScriptEnabled: true });
    try {
      const p = await copy.newPage();
      await p.setContent(await page.content());
      await expectNoViolationsOn(p, name);
    } finally {
      await copy.close();
    }
    return;
  }
  await expectNoViolationsOn(page, name);
}

async function expectNoViolationsOn(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => FAILING.has(v.impact ?? ''));
  const report = bad
    .map((v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}  ${n.failureSummary?.split('\n').slice(1).join(' ')}`).join('\n')}`)
    .join('\n');
  expect(bad, `${name}: axe violations\n${report}`).toEqual([]);
  expect(results.passes.length, `${name}: axe ran its rules`).toBeGreaterThan(10);
}

/** The text of a raw message with its transfer encodings undone (quoted-printable, base64). */
export function decodedText(raw: string): string {
  const qp = raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  const parts = [qp];
  const base64 = /Content-Transfer-Encoding:\s*base64[^\S\r\n]*\r?\n(?:[^\r\n]+\r?\n)*?\r?\n([A-Za-z0-9+/=\r\n]+)/gi;
  for (const m of raw.matchAll(base64)) parts.push(Buffer.from(m[1].replace(/\s+/g, ''), 'base64').toString('utf8'));
  return parts.join('\n');
}

/** A preference center link: /p/ and the signed token. */
const LINK = String.raw`http://127\.0\.0\.1:3000/p/\d+\.\d+\.\d+\.[0-9a-f]{24}`;
const PREF_LINK = new RegExp(`Choose how we reach you: (${LINK})(?![0-9a-f])`);
const CODE = /Your code to add this address to your preferences is (\d{6})\b/;

function customerPanel(page: Page) {
  return page.getByRole('complementary', { name: 'Customer' });
}

/** The consent section's entry for the identifier of `kind` (its label, e.g. "Phone"). */
function consentOf(page: Page, kind: string): Locator {
  return customerPanel(page)
    .getByRole('region', { name: 'Consent' })
    .locator('li.consent-identifier')
    .filter({ has: page.locator('.kind', { hasText: new RegExp(`^${escapeRegExp(kind)}$`) }) });
}

/**
 * Waits until `check` passes on the agent's page: with JavaScript by the live update alone (the
 * page is never loaded again, see `expectNotReloaded`), without it by reloading.
 */
async function agentSees(page: Page, check: () => Promise<void>, timeout = 20_000): Promise<void> {
  if (jsEnabled()) {
    await expect(check).toPass({ timeout });
    return;
  }
  await expect(async () => {
    await page.reload();
    await check();
  }).toPass({ timeout });
}

/** Marks the agent's document, so a later check can tell it was not loaded again. */
async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { __e2eSameDocument?: boolean }).__e2eSameDocument = true;
  });
}

async function expectNotReloaded(page: Page): Promise<void> {
  expect(
    await page.evaluate(() => (window as unknown as { __e2eSameDocument?: boolean }).__e2eSameDocument === true),
    'the agent page was updated live, not loaded again',
  ).toBe(true);
}

export async function preferenceCenter(page: Page, browser: Browser, request: APIRequestContext): Promise<void> {
  test.setTimeout(180_000);
  const js = jsEnabled();
  const s = uniqueSuffix();
  const name = `Pia Prefs ${s}`;
  const email = `pia.${s}@customer.test`;
  const second = `work.${s}@customer.test`;
  const phone = randomPhone();
  const maskedPhone = `+1 *** *** ${phone.slice(-4)}`;
  const hydrationErrors: string[] = [];
  page.on('console', (m) => {
    if (/hydration error|panicked/i.test(m.text())) hydrationErrors.push(m.text().split('\n')[0]);
  });

  // 1. The customer emails support; the agent finds the conversation.
  await smtpSend(
    email,
    SUPPORT_MAILBOX,
    `From: ${name} <${email}>\nTo: Shop <${SUPPORT_MAILBOX}>\nSubject: Delivery ${s}\nMessage-ID: <delivery-${s}@customer.test>\n` +
      `Date: ${new Date().toUTCString()}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n` +
      `Hello, where is my delivery ${s}? Please text me rather than email.\n`,
  );
  await login(page, USERS.support);
  const conv = conversationList(page).getByRole('link', { name: new RegExp(escapeRegExp(name)) });
  if (js) await expect(conv).toBeVisible({ timeout: 30_000 });
  else await agentSees(page, () => expect(conv).toBeVisible({ timeout: 1_000 }), 30_000);
  await conv.click();
  await expect(page).toHaveURL(/\/inbox\/\d+/);
  const panel = customerPanel(page);
  await expect(panel.getByRole('heading', { name, exact: true })).toBeVisible();

  // The agent adds her mobile number, as a phone (SMS) and as WhatsApp.
  for (const [kind, dataKind] of [
    ['phone', 'phone'],
    ['whatsapp', 'whatsapp'],
  ]) {
    await panel.getByLabel('Kind', { exact: true }).selectOption(kind);
    await panel.getByLabel('New identifier', { exact: true }).fill(phone);
    await panel.getByRole('button', { name: 'Add identifier' }).click();
    await expect(panel.locator(`ul.identifiers > li[data-kind="${dataKind}"]`)).toContainText(phone, { timeout: 10_000 });
  }
  await expect(panel.getByRole('alert')).toHaveCount(0);

  // She texts START: support and marketing by SMS are granted on that number.
  await standinTexts(request, phone, 'START');
  await agentSees(page, async () => {
    await expect(timeline(page).locator('article[data-channel="sms"][data-direction="in"]', { hasText: 'START' })).toBeVisible({ timeout: 1_000 });
    await expect(consentOf(page, 'Phone').locator('dd[data-purpose="marketing"]')).toHaveAttribute('data-status', 'granted', { timeout: 1_000 });
  });

  // 2. The agent answers by email (her newest message was the text: email is chosen by hand).
  const via = page.getByRole('combobox', { name: 'Reply via' });
  await via.selectOption({ label: `Email · ${email} (from Support mailbox)` });
  const answer = `Your delivery ${s} arrives on Friday. Tell us how you want to hear from us.`;
  const message = page.getByRole('textbox', { name: 'Message', exact: true });
  await message.fill(answer);
  const choose = page.getByRole('link', { name: 'Let the customer choose' });
  if (js) {
    // The button adds the link (for the address the reply goes to) to the draft.
    await choose.click();
    await expect(message).toHaveValue(new RegExp(`^${escapeRegExp(answer)}\\n\\nChoose how we reach you: ${LINK}$`));
  } else {
    // Without JavaScript it opens a page with the line to copy.
    const href = await choose.getAttribute('href');
    expect(href).toMatch(/^\/conversations\/\d+\/preference-link\?identifier=\d+$/);
    const linkPage = await page.request.get(href!);
    expect(linkPage.status()).toBe(200);
    expect(await linkPage.text()).toMatch(new RegExp(`Choose how we reach you: ${LINK}<`));
  }
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const outbound = timeline(page).locator('article[data-direction="out"][data-channel="email"]', { hasText: answer });
  await agentSees(page, () => expect(outbound.locator('.delivery')).toHaveText('sent', { timeout: 1_000 }));

  // The email she receives carries the link to her preference center.
  await expect.poll(() => mailDeliveredTo(email).filter((m) => decodedText(m).includes(answer)).length, { timeout: 20_000 }).toBe(1);
  const delivered = decodedText(mailDeliveredTo(email).find((m) => decodedText(m).includes(answer))!);
  const link = delivered.match(PREF_LINK)?.[1];
  expect(link, `a preference link in the email:\n${delivered}`).toBeTruthy();

  // 3. She opens it on her phone, in a browser of her own.
  const phoneContext = await browser.newContext({
    baseURL: ORIGIN,
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
    locale: 'en-US',
    javaScriptEnabled: js,
  });
  if (js) await installHydrationProbe(phoneContext);
  try {
    const customer = await phoneContext.newPage();
    // In her browser's language when it asks for one we have (here by the link's choice).
    await customer.goto(`${link!}?lang=es`);
    await expect(customer.getByRole('heading', { level: 1 })).toHaveText('Cómo te contactamos');
    await customer.goto(link!);
    await expect(customer.getByRole('heading', { level: 1 })).toHaveText('How we reach you');
    await expect(customer.locator('script')).toHaveCount(0);
    // Her addresses, masked; her number's news and offers are on (she texted START).
    const smsNews = customer.getByRole('checkbox', { name: `News and offers: SMS ${maskedPhone}`, exact: true });
    await expect(customer.getByRole('checkbox', { name: `Answers to your questions: SMS ${maskedPhone}`, exact: true })).toBeChecked();
    await expect(smsNews).toBeChecked();
    await expect(customer.getByRole('checkbox', { name: `Answers to your questions: WhatsApp ${maskedPhone}`, exact: true })).toBeVisible();
    await expect(customer.getByRole('checkbox', { name: `Answers to your questions: Email pia***@customer.test`, exact: true })).toBeChecked();
    const page_ = await customer.content();
    expect(page_, 'her full number and address are not on the page').not.toContain(phone.slice(2));
    expect(page_).not.toContain(email);

    // Switch off news and offers by SMS, prefer WhatsApp, quiet hours 21:00–07:30 in Madrid,
    // news at most once a week.
    await smsNews.uncheck();
    await customer.getByRole('group', { name: 'Your preferred channel' }).getByRole('radio', { name: 'WhatsApp', exact: true }).check();
    await customer.getByLabel('From', { exact: true }).fill('21:00');
    await customer.getByLabel('Until', { exact: true }).fill('07:30');
    await customer.getByLabel('Your time zone', { exact: true }).selectOption('Europe/Madrid');
    await customer
      .getByRole('group', { name: 'How often we may send news and offers' })
      .getByRole('radio', { name: 'At most once a week', exact: true })
      .check();
    if (js) await markDocument(page);
    await customer.getByRole('button', { name: 'Save my choices' }).click();
    await expect(customer.getByRole('status')).toHaveText('Your choices are saved.');
    // The page comes back with what she chose.
    await expect(smsNews).not.toBeChecked();
    await expect(customer.getByRole('radio', { name: 'WhatsApp', exact: true })).toBeChecked();
    await expect(customer.getByLabel('From', { exact: true })).toHaveValue('21:00');
    await expect(customer.getByLabel('Until', { exact: true })).toHaveValue('07:30');
    await expect(customer.getByLabel('Your time zone', { exact: true })).toHaveValue('Europe/Madrid');
    await expect(customer.getByRole('radio', { name: 'At most once a week', exact: true })).toBeChecked();
    await screenshot(customer, 'preferences-saved-390');

    // 4. The agent sees each choice: prefers WhatsApp, what she chose, SMS marketing opted out
    //    by the preference center, and the timeline says so.
    await agentSees(page, async () => {
      await expect(panel.locator('p.preferred')).toHaveText(/^Prefers\s*WhatsApp$/, { timeout: 1_000 });
      await expect(panel.locator('p.preferred .badge')).toHaveAttribute('data-channel', 'whatsapp', { timeout: 1_000 });
      await expect(panel.getByRole('heading', { name: 'Chosen by the customer' })).toBeVisible({ timeout: 1_000 });
      await expect(panel.locator('p.chosen')).toHaveText('Quiet hours 21:00–07:30 (Europe/Madrid), marketing at most once a week', {
        timeout: 1_000,
      });
    });
    const smsMarketing = consentOf(page, 'Phone').locator('dd[data-purpose="marketing"]');
    await expect(smsMarketing).toHaveAttribute('data-status', 'opted-out');
    await expect(smsMarketing).toContainText(/Opted out · the customer's preference center · /);
    await expect(consentOf(page, 'Phone').locator('dd[data-purpose="support"]')).toHaveAttribute('data-status', 'granted');
    await expect(panel.locator('ul.identifiers > li[data-kind="phone"] .consent')).toContainText(
      'No marketing (the customer asked for no marketing on SMS)',
    );
    await expect(
      timeline(page).getByText(
        `The customer changed their preferences in the preference center: asked for no marketing on SMS (${phone}); ` +
          'prefers WhatsApp; quiet hours 21:00–07:30 (Europe/Madrid); marketing at most once a week.',
      ),
    ).toBeVisible();
    if (js) await expectNotReloaded(page);

    // 3b. She adds a second email address: a code is sent to it, she types it.
    const add = customer.getByRole('region', { name: 'Add an email address or phone number' });
    await add.getByRole('combobox', { name: 'What to add' }).selectOption('email');
    await add.getByRole('textbox', { name: 'Address or number', exact: true }).fill(second);
    await add.getByRole('button', { name: 'Send me a code' }).click();
    await expect(customer.getByRole('status')).toHaveText('If we can reach wor***@customer.test, a code is on its way. It works for 15 minutes.');
    const codeBox = customer.getByRole('textbox', { name: 'The code we sent', exact: true });
    await expect(codeBox).toBeVisible();
    await screenshot(customer, 'preferences-code-390');
    await expectNoViolations(customer, 'preference center at 390 px, code asked');

    await expect
      .poll(() => mailDeliveredTo(second).map(decodedText).find((m) => CODE.test(m)) ?? '', { timeout: 30_000 })
      .toMatch(CODE);
    const codeMail = mailDeliveredTo(second).map(decodedText).find((m) => CODE.test(m))!;
    const code = codeMail.match(CODE)![1];
    // Until she types it, the address is no more than a suggestion on the agent's side.
    const secondOption = via.locator('option', { hasText: `Email · ${second} (from Support mailbox)` });
    await agentSees(page, () => expect(secondOption).toHaveText(`Email · ${second} (from Support mailbox) — unverified`, { timeout: 1_000 }));

    await codeBox.fill(code);
    await customer.getByRole('button', { name: 'Confirm', exact: true }).click();
    await expect(customer.getByRole('status')).toHaveText('Added. We may now reach you at wor***@customer.test as you choose above.');
    await expect(customer.getByRole('checkbox', { name: 'Answers to your questions: Email wor***@customer.test', exact: true })).toBeChecked();
    await expect(customer.getByRole('textbox', { name: 'The code we sent', exact: true })).toHaveCount(0);
    const added = await screenshot(customer, 'preferences-added-390');
    if (js) publish(added, 'preferences-390.png');

    // The agent's composer gains the address, verified; the panel lists it.
    await agentSees(page, async () => {
      await expect(secondOption).toHaveText(`Email · ${second} (from Support mailbox)`, { timeout: 1_000 });
      await expect(panel.locator('ul.identifiers > li[data-kind="email"]', { hasText: second })).not.toHaveClass(/suggested/, {
        timeout: 1_000,
      });
    });
    await expect(timeline(page).getByText(`The customer added ${second} in the preference center, confirmed with a code sent to it.`)).toBeVisible();
    if (js) await expectNotReloaded(page);

    // 5. The page at desktop width too, and accessible at both.
    await customer.setViewportSize({ width: 1400, height: 900 });
    const wide = await screenshot(customer, 'preferences-added-1400');
    if (js) publish(wide, 'preferences-1400.png');
    await expectNoViolations(customer, 'preference center at 1400 px');
  } finally {
    await phoneContext.close();
  }
  await screenshot(page, 'preferences-agent-panel');
  expect(hydrationErrors, 'hydration errors on the agent page').toEqual([]);
}
