// Campaigns (issue 15), hydrated, against the provider stand-in: marketing drafts a campaign
// for a label, the live preview counts who is reached and who is skipped and why; the author
// cannot approve it, a colleague does and sends it; per-recipient states turn delivered; an
// SMS the provider refuses falls back to email; a reply lands in the customer's conversation
// marked as answering the campaign; STOP shows the customer as opted out.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { test, expect, USERS, login, gotoApp, timeline, screenshot, waitForHydration, uniqueSuffix, randomPhone, standinTexts, STANDIN, installHydrationProbe, conversationList, escapeRegExp, standinSmsSentTo } from './support';

/** axe-core finds no moderate, serious or critical violation on the page as it is. */
async function expectAccessible(page: Page, name: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => ['moderate', 'serious', 'critical'].includes(v.impact ?? ''));
  expect(bad.map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), name).toEqual([]);
}

function customerPanel(page: Page) {
  return page.getByRole('complementary', { name: 'Customer' });
}

test('a campaign is drafted, previewed, approved by a colleague, sent with a fallback, and answered', async ({ page, browser, request }) => {
  test.setTimeout(180_000);
  const s = uniqueSuffix();
  const label = `Spring ${s}`;
  const [pat, quinn, rae] = [randomPhone(), randomPhone(), randomPhone()];
  const patEmail = `pat.${s}@customer.test`;

  // Three customers text in; Rae then opts out.
  await standinTexts(request, pat, `Hi, Pat here about ${s}`);
  await standinTexts(request, quinn, `Hi, Quinn here about ${s}`);
  await standinTexts(request, rae, `Hi, Rae here about ${s}`);
  await standinTexts(request, rae, 'STOP');

  // The admin makes a label, puts it on the three conversations, and gives Pat an email.
  await login(page, USERS.admin);
  await waitForHydration(page);
  await gotoApp(page, '/admin#labels');
  await page.getByLabel('New label').fill(label);
  await page.getByRole('button', { name: 'Add label' }).click();
  await expect(page.locator('.label-admin .label-chip', { hasText: label })).toBeVisible();
  for (const phone of [pat, quinn, rae]) {
    await gotoApp(page, '/inbox');
    const link = conversationList(page).getByRole('link', { name: new RegExp(escapeRegExp(phone)) }).first();
    await expect(link).toBeVisible({ timeout: 20_000 });
    await link.click();
    await expect(page).toHaveURL(/\/inbox\/\d+/);
    await page.getByText('+ Label').click();
    await page.getByLabel('Label to add').selectOption({ label });
    await page.getByRole('button', { name: 'Add label' }).click();
    await expect(page.getByRole('list', { name: 'Labels' }).getByText(label)).toBeVisible();
    if (phone === pat) {
      const panel = customerPanel(page);
      await panel.getByLabel('Kind', { exact: true }).selectOption('email');
      await panel.getByLabel('New identifier', { exact: true }).fill(patEmail);
      await panel.getByRole('button', { name: 'Add identifier' }).click();
      await expect(panel.locator('ul.identifiers > li[data-kind="email"]')).toContainText(patEmail);
    }
  }

  // Marketing drafts the campaign in another window.
  const ctx = await browser.newContext();
  await installHydrationProbe(ctx);
  const mk = await ctx.newPage();
  // The page's code must keep running: a panic (a disposed signal read) stops every control.
  const pageErrors: string[] = [];
  mk.on('pageerror', (e) => pageErrors.push(e.message));
  await login(mk, USERS.marketing);
  await waitForHydration(mk);
  await mk.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Campaigns' }).click();
  await expect(mk.getByRole('heading', { name: 'Campaigns', level: 1 })).toBeVisible();
  await mk.getByRole('link', { name: 'New campaign' }).click();
  await expect(mk.getByRole('heading', { name: 'New campaign' })).toBeVisible();
  await mk.getByLabel('Name', { exact: true }).fill(`Spring news ${s}`);
  await mk.getByLabel('Transactional (needs support consent; no opt-out)').check();
  await mk.getByLabel('Label on their conversation').selectOption({ label });
  await mk.locator('#step0-subject').fill('Spring news');
  await mk.locator('#step0-text').fill('Hello {{customer.first_name}}, our spring range is in.');
  await mk.locator('#step0-sms').fill(`Spring range ${s} is in. Reply STOP to opt out.`);
  await expect(mk.locator('#step0-sms-count')).toContainText('1 segment (GSM-7)');
  // A follow-up two days later, by SMS only.
  await mk.getByRole('button', { name: 'Add a follow-up step' }).click();
  await expect(mk.getByLabel('Hours after the step before')).toHaveValue('48');
  await mk.getByRole('group', { name: 'Step 2' }).locator('summary', { hasText: /^SMS$/ }).click();
  await mk.locator('#step1-sms').fill(`Last days of spring range ${s}. Reply STOP to opt out.`);
  // SMS first, then email; no quiet hours for the test; fall back on failure only.
  await mk.getByRole('button', { name: 'Remove Email' }).click();
  await mk.getByLabel('Add a channel to the order').selectOption('sms');
  await mk.getByLabel('Add a channel to the order').selectOption('email');
  await mk.getByLabel('Quiet hours from (customer\'s time)').fill('00:00');
  await mk.getByLabel('Quiet hours until').fill('00:00');
  await mk.getByLabel(/Fall back when not delivered within/).fill('0');
  // The live preview: three match, two reached by SMS, Rae skipped as opted out.
  const preview = mk.getByRole('region', { name: 'Audience preview' });
  await expect(preview).toContainText('3 customers match', { timeout: 10_000 });
  await expect(preview).toContainText('SMS: 2');
  await expect(preview).toContainText('Skipped, opted out: 1');
  await screenshot(mk, 'campaign-draft');
  // Saved at once after a last change, while the preview still waits to follow it: the
  // preview's timer then fires after the editor is gone.
  await mk.locator('#step0-sms').fill(`Spring range ${s} is in. Reply STOP to opt out. `);
  await mk.locator('#step0-sms').fill(`Spring range ${s} is in. Reply STOP to opt out.`);
  await mk.getByRole('button', { name: 'Save draft' }).click();
  await expect(mk).toHaveURL(/\/campaigns\/\d+$/);
  const campaignUrl = new URL(mk.url()).pathname;
  await expect(mk.getByText('A colleague (an admin or another marketing user) approves this draft')).toBeVisible();
  await expect(mk.getByRole('button', { name: 'Approve' })).toHaveCount(0);
  // Saving moved from the new campaign's editor to the draft's page: nothing panicked, and the
  // draft's editor answers (its SMS counter follows the text).
  await mk.locator('#step0-sms').fill(`Spring range ${s} is in now. Reply STOP to opt out.`);
  await expect(mk.locator('#step0-sms-count')).toContainText(/\d+ characters, 1 segment \(GSM-7\)/);
  expect(pageErrors, pageErrors.join('\n')).toEqual([]);

  // The stand-in refuses the first SMS to Pat: it falls back to email.
  const fault = await request.post(`${STANDIN}/_standin/faults`, {
    data: {
      provider: 'twilio',
      status: 400,
      body: JSON.stringify({ code: 21211, message: "The 'To' number is not a valid phone number.", more_info: 'https://www.twilio.com/docs/errors/21211', status: 400 }),
      times: 1,
      when_body_contains: pat,
    },
  });
  expect(fault.ok()).toBeTruthy();

  // The admin approves and sends it.
  await gotoApp(page, campaignUrl);
  await page.getByRole('button', { name: 'Approve' }).click();
  await expect(page.locator('.badge', { hasText: 'Approved' })).toBeVisible();
  await page.getByRole('button', { name: 'Send now' }).click();

  // Per-recipient states as they change (the page refreshes itself while sending).
  await gotoApp(mk, campaignUrl);
  const recipients = mk.getByRole('region', { name: 'Recipients' });
  const row = (phone: string) => recipients.locator('li.recipient', { hasText: phone });
  await expect(row(quinn).locator('.badge')).toHaveText('Delivered', { timeout: 30_000 });
  await expect(row(pat)).toContainText('fell back from SMS', { timeout: 30_000 });
  await expect(row(pat)).toContainText('on Email');
  await expect(row(pat)).toContainText(/SMS failed/);
  await expect(row(rae).locator('.badge')).toHaveText('Opted out');
  await screenshot(mk, 'campaign-sending');

  // Quinn answers: the reply is in Quinn's conversation, marked as answering the campaign.
  await standinTexts(request, quinn, 'Are the spring boots in too?');
  await expect(row(quinn).locator('.badge')).toHaveText('Replied', { timeout: 30_000 });
  // The campaign page with its report and recipients, wide and on a phone.
  await expectAccessible(mk, 'campaign under way, 1400 px');
  await mk.setViewportSize({ width: 390, height: 844 });
  await screenshot(mk, 'campaign-sending-390');
  await expectAccessible(mk, 'campaign under way, 390 px');
  await mk.setViewportSize({ width: 1400, height: 900 });
  await row(quinn).getByRole('link').click();
  await expect(mk).toHaveURL(/\/inbox\/\d+/);
  await expect(timeline(mk).locator('article[data-direction="out"]', { hasText: `Spring range ${s}` })).toContainText(`Campaign “Spring news ${s}”`);
  await expect(timeline(mk).locator('article[data-direction="in"]', { hasText: 'spring boots' })).toContainText(`Answers campaign “Spring news ${s}”`);
  await screenshot(mk, 'campaign-answer-1400');
  await expectAccessible(mk, 'conversation with a campaign answer, 1400 px');
  await mk.setViewportSize({ width: 390, height: 844 });
  await screenshot(mk, 'campaign-answer-390');
  await expectAccessible(mk, 'conversation with a campaign answer, 390 px');
  await mk.setViewportSize({ width: 1400, height: 900 });

  // Quinn then texts STOP: the campaign shows the opt-out, and the report counts it.
  await standinTexts(request, quinn, 'STOP');
  await gotoApp(mk, campaignUrl);
  await expect(row(quinn).locator('.badge')).toHaveText('Opted out', { timeout: 30_000 });
  const report = mk.getByRole('region', { name: 'Report' });
  await expect(report).toContainText('1 opted out after being messaged', { timeout: 30_000 });
  await expect(report).toContainText('skipped (opted out)');
  await screenshot(mk, 'campaign-report');

  // The follow-up waits two days; marketing starts it now. It goes to Pat only: Quinn
  // answered (and said STOP), Rae had opted out.
  await expect(mk.getByText(/Step 2 starts at/)).toBeVisible();
  await mk.getByRole('button', { name: 'Start step 2 now' }).click();
  const step2 = (phone: string) => recipients.locator('li.recipient', { hasText: phone }).filter({ hasText: 'step 2' });
  await expect(step2(pat).locator('.badge')).toHaveText('Delivered', { timeout: 30_000 });
  await expect(step2(pat)).toContainText('on SMS');
  await expect(step2(quinn)).toHaveCount(0);
  await expect(step2(rae)).toHaveCount(0);
  expect((await standinSmsSentTo(request, quinn)).filter((b) => b.includes('Last days'))).toEqual([]);
  expect((await standinSmsSentTo(request, pat)).filter((b) => b.includes('Last days'))).toHaveLength(1);
  await ctx.close();
});
