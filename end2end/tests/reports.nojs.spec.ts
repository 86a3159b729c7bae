import { test, expect } from './support';
import { adminSetsBusinessHours, marketingReviewsReports, reportsFitAPhone, supportSeesSupportReports } from './reports.flow';

test.beforeEach(() => {
  expect(test.info().project.use.javaScriptEnabled).toBe(false);
});

test('without JavaScript, marketing: reports, range, charts, matrix, drill-down, CSV', async ({ page }) => {
  await marketingReviewsReports(page);
});

test('without JavaScript: reports fit a phone', async ({ page }) => {
  await reportsFitAPhone(page);
});

test('without JavaScript: admin sets business hours; the reports count in them', async ({ page }) => {
  await adminSetsBusinessHours(page);
});

test('without JavaScript: support sees the support reports only', async ({ page }) => {
  await supportSeesSupportReports(page);
});
