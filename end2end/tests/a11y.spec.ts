// WCAG 2.2 AA: axe-core finds no serious, critical or moderate violation on the login, inbox,
// conversation, search, canned responses, campaigns, playground and admin pages, at desktop
// and phone widths.
import AxeBuilder from '@axe-core/playwright';
import { type Page } from '@playwright/test';
import { test, expect, USERS, login, gotoApp, conversationList, timeline, screenshot, publish } from './support';

const WIDTHS = [
  { width: 1400, height: 900 },
  { width: 390, height: 844 },
];
const FAILING = new Set(['moderate', 'serious', 'critical']);

async function expectNoViolations(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => FAILING.has(v.impact ?? ''));
  const report = bad
    .map((v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}  ${n.failureSummary?.split('\n').slice(1).join(' ')}`).join('\n')}`)
    .join('\n');
  expect(bad, `${name}: axe violations\n${report}`).toEqual([]);
  expect(results.passes.length, `${name}: axe ran its rules`).toBeGreaterThan(10);
}

for (const size of WIDTHS) {
  test(`axe at ${size.width} px: login, inbox, conversation, playground, admin`, async ({ page }) => {
    await page.setViewportSize(size);
    await page.goto('/login');
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    await expectNoViolations(page, 'login');

    await login(page, USERS.admin);
    await expect(conversationList(page).getByRole('link').first()).toBeVisible();
    await expectNoViolations(page, 'inbox');

    await conversationList(page).getByRole('link', { name: /Ada Lovelace/ }).first().click();
    await expect(timeline(page).locator('article').first()).toBeVisible();
    await expectNoViolations(page, 'conversation');
    await screenshot(page, `a11y-conversation-${size.width}`);

    if (size.width < 800) {
      await page.getByRole('link', { name: 'Customer details' }).click();
      await expect(page.getByRole('complementary', { name: 'Customer' })).toBeVisible();
      await expectNoViolations(page, 'customer panel');
    }

    // Search results, the keyboard help and the command palette (issue 14).
    await gotoApp(page, '/inbox?q=order');
    await expect(page.getByRole('navigation', { name: 'Search results' }).getByRole('link').first()).toBeVisible();
    await expectNoViolations(page, 'search results');
    const shot = await screenshot(page, `a11y-search-${size.width}`);
    if (size.width > 800) publish(shot, 'search.png');
    await page.keyboard.press('?');
    await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
    await expectNoViolations(page, 'keyboard help');
    await screenshot(page, `a11y-keys-${size.width}`);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+k');
    await expect(page.getByRole('dialog', { name: 'Command palette' })).toBeVisible();
    await page.keyboard.type('ada');
    await expect(page.getByRole('option', { name: /Ada Lovelace/ })).toBeVisible();
    await expectNoViolations(page, 'command palette');
    await screenshot(page, `a11y-palette-${size.width}`);
    await page.keyboard.press('Escape');

    await gotoApp(page, '/canned');
    await expect(page.getByRole('heading', { name: 'Canned responses', level: 1 })).toBeVisible();
    await expectNoViolations(page, 'canned responses');
    await screenshot(page, `a11y-canned-${size.width}`);

    // Campaigns (issue 15): the list, the demo draft with its live preview, a new campaign.
    await gotoApp(page, '/campaigns');
    await expect(page.getByRole('heading', { name: 'Campaigns', level: 1 })).toBeVisible();
    await expectNoViolations(page, 'campaigns');
    await page.getByRole('link', { name: 'Holiday opening hours' }).first().click();
    await expect(page.getByRole('region', { name: 'Audience preview' })).toContainText('customers match', { timeout: 10_000 });
    await expectNoViolations(page, 'campaign draft');
    const draft = await screenshot(page, `a11y-campaign-${size.width}`);
    if (size.width > 800) publish(draft, 'campaign.png');
    await gotoApp(page, '/campaigns/new');
    await expect(page.getByRole('heading', { name: 'New campaign' })).toBeVisible();
    await expectNoViolations(page, 'new campaign');

    await gotoApp(page, '/playground');
    await expect(page.getByRole('heading', { name: 'Playground' })).toBeVisible();
    await expectNoViolations(page, 'playground');

    await gotoApp(page, '/admin');
    await expect(page.getByRole('heading', { name: 'Channel accounts' })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Labels' })).toBeVisible();
    await expectNoViolations(page, 'admin');
    await screenshot(page, `a11y-admin-${size.width}`);
  });
}
