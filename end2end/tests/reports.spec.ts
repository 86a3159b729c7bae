import AxeBuilder from '@axe-core/playwright';
import { test, expect, USERS, login, gotoApp, screenshot } from './support';
import { adminSetsBusinessHours, marketingReviewsReports, reportsFitAPhone, supportSeesSupportReports } from './reports.flow';

test.use({ timezoneId: 'Europe/Paris' });

test('marketing: reports, range, charts, switch matrix, drill-down and a CSV that matches', async ({ page }) => {
  await marketingReviewsReports(page);
});

test('reports fit a phone', async ({ page }) => {
  await reportsFitAPhone(page);
});

test('admin sets business hours; the reports count in them', async ({ page }) => {
  await adminSetsBusinessHours(page);
});

test('support sees the support reports only', async ({ page }) => {
  await supportSeesSupportReports(page);
});

for (const size of [
  { width: 1400, height: 900 },
  { width: 390, height: 844 },
]) {
  test(`axe at ${size.width} px: the report tabs and a drill-down`, async ({ page }) => {
    await page.setViewportSize(size);
    await login(page, USERS.admin);
    for (const url of ['/reports', '/reports?tab=cross', '/reports?tab=reach', '/reports/settings', '/reports/episodes?range=30&metric=episodes']) {
      await gotoApp(page, url);
      await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(width, `${url} is no wider than the screen`).toBeLessThanOrEqual(size.width);
      const results = await new AxeBuilder({ page }).analyze();
      const bad = results.violations.filter((v) => ['moderate', 'serious', 'critical'].includes(v.impact ?? ''));
      const report = bad.map((v) => `${v.impact} ${v.id}: ${v.help} ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('\n');
      expect(bad, `${url}: axe violations\n${report}`).toEqual([]);
      const slug = url.replace(/^\/reports\/?/, '').replace(/\?.*tab=(\w+).*/, '$1').replace(/\?.*/, '') || 'support';
      await screenshot(page, `axe-reports-${slug}-${size.width}`);
    }
    await screenshot(page, `reports-episodes-${size.width}`);
  });
}
