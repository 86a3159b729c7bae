// The reports as marketing staff and support staff use them; shared by the hydrated and the
// no-JavaScript projects (the filters are a GET form and every number a link, so both work).
import { type Page } from '@playwright/test';
import { expect, USERS, login, gotoApp, screenshot, publish, jsEnabled, waitForHydration } from './support';

/** Parses a CSV body (RFC 4180: quoted fields, doubled quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field.replace(/\r$/, ''));
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += c;
    }
  }
  if (field !== '' || row.length) rows.push([...row, field]);
  return rows;
}

const num = (s: string) => Number(s.replace(/,/g, ''));

async function openReports(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
  await expect(page.getByRole('heading', { name: 'Reports', level: 1 })).toBeVisible();
  if (jsEnabled()) await waitForHydration(page);
}

/** A marketing user opens Reports, changes the range, sees charts and the switch matrix,
 * follows a drill-down link and downloads a CSV whose totals match the page. */
export async function marketingReviewsReports(page: Page): Promise<void> {
  await login(page, USERS.marketing);
  await openReports(page);
  const cards = page.getByRole('list', { name: 'Headline figures' });
  await expect(cards.getByText('Episodes', { exact: true })).toBeVisible();
  await expect(page.locator('#volume svg[role="img"]')).toBeVisible();
  await expect(page.getByRole('group').getByText('How is this measured?')).toBeVisible();

  // Change the range to the last 7 days.
  await page.getByLabel('Range').selectOption('7');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/range=7/);
  await expect(page.getByLabel('Range')).toHaveValue('7');
  if (jsEnabled()) await waitForHydration(page);

  // The episodes card and the volume table agree; the table's CSV holds the same numbers.
  const episodesCard = cards.getByRole('link').filter({ hasText: 'Episodes' }).first();
  const cardValue = num((await episodesCard.locator('.card-value').innerText()).trim());
  const volumeRows = page.locator('#volume tbody tr');
  const periods = await volumeRows.count();
  expect(periods).toBe(7);
  let tableTotal = 0;
  for (let i = 0; i < periods; i++) tableTotal += num(await volumeRows.nth(i).locator('td').first().innerText());
  expect(tableTotal).toBe(cardValue);
  const csvHref = await page.locator('#volume').getByRole('link', { name: 'Download this table (CSV)' }).getAttribute('href');
  const csv = await page.request.get(csvHref!);
  expect(csv.status()).toBe(200);
  expect(csv.headers()['content-type']).toContain('text/csv');
  const rows = parseCsv(await csv.text());
  expect(rows[0]).toEqual(['Period', 'Episodes', 'Messages in', 'Messages out']);
  expect(rows.slice(1).reduce((s, r) => s + num(r[1]), 0)).toBe(cardValue);

  // The cross-channel tab: the switch matrix as a table.
  await page.getByRole('navigation', { name: 'Reports' }).getByRole('link', { name: 'Cross-channel' }).click();
  await expect(page).toHaveURL(/tab=cross/);
  if (jsEnabled()) await waitForHydration(page);
  // The demo's resolved conversation started six days ago: the last 30 days hold it.
  await page.getByLabel('Range').selectOption('30');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/tab=cross.*range=30/);
  await expect(page.getByRole('heading', { name: 'First contact → resolution' })).toBeVisible();
  await expect(page.getByRole('table', { name: /channel of first contact by channel of resolution/ })).toBeVisible();
  await expect(page.locator('#mix svg[role="img"]')).toBeVisible();
  await expect(page.getByRole('region', { name: /Reply time by the channel/ })).toBeVisible();
  publish(await screenshot(page, 'reports-cross-1400'), 'reports-cross-channel.png');

  // Consent and reach: consent changes, delivery, identity.
  await page.getByRole('navigation', { name: 'Reports' }).getByRole('link', { name: 'Consent and reach' }).click();
  await expect(page).toHaveURL(/tab=reach/);
  await expect(page.getByRole('heading', { name: 'Consent changes' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Delivery' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Identity' })).toBeVisible();
  await expect(cards.getByText('Marketing opt-outs')).toBeVisible();
  // Who marketing can reach now, channels of choice, delivery per provider.
  await expect(cards.getByText('Reachable for marketing now')).toBeVisible();
  const reach = page.getByRole('table', { name: 'Customers marketing may write to now, by channel' });
  await expect(reach.getByRole('rowheader', { name: 'Any channel' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Channel of choice' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'How channels of choice changed' })).toBeVisible();
  await expect(page.getByRole('table', { name: /by channel and provider/ }).getByRole('columnheader', { name: 'Provider' })).toBeVisible();
  publish(await screenshot(page, 'reports-reach-1400'), 'reports-reach.png');

  // Drill down from the episodes card: the list holds what the number counts.
  await page.getByRole('navigation', { name: 'Reports' }).getByRole('link', { name: 'Support' }).click();
  await expect(page.getByRole('heading', { name: 'Response and resolution times' })).toBeVisible();
  publish(await screenshot(page, 'reports-support-1400'), 'reports-support.png');
  const count = num((await cards.getByRole('link').filter({ hasText: 'Episodes' }).first().locator('.card-value').innerText()).trim());
  await cards.getByRole('link').filter({ hasText: 'Episodes' }).first().click();
  await expect(page).toHaveURL(/\/reports\/episodes\?/);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Episodes');
  const listed = page.locator('table tbody tr');
  await expect(listed).toHaveCount(Math.min(count, 200));
  if (count > 0) {
    const first = listed.first().getByRole('link');
    await expect(first).toHaveAttribute('href', /^\/inbox\/\d+$/);
  }
  await page.getByRole('link', { name: '← Reports' }).click();
  await expect(page.getByRole('heading', { name: 'Reports', level: 1 })).toBeVisible();
}

/** At 390 px the page fits the screen (tables scroll inside their own box). */
export async function reportsFitAPhone(page: Page): Promise<void> {
  await page.setViewportSize({ width: 390, height: 844 });
  await login(page, USERS.marketing);
  for (const tab of ['overview', 'cross', 'reach']) {
    const url = `/reports?tab=${tab}&range=90`;
    await gotoApp(page, url);
    await expect(page.getByRole('heading', { name: 'Reports', level: 1 })).toBeVisible();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width, `${url} is no wider than the screen`).toBeLessThanOrEqual(390);
    await screenshot(page, `reports-${tab}-390`);
  }
}

/** Support staff see the support reports only. */
export async function supportSeesSupportReports(page: Page): Promise<void> {
  await login(page, USERS.support);
  await openReports(page);
  await expect(page.getByRole('navigation', { name: 'Reports' }).getByRole('link', { name: 'Cross-channel' })).toHaveCount(0);
  await expect(page.getByRole('navigation', { name: 'Reports' }).getByRole('link', { name: 'Consent and reach' })).toHaveCount(0);
  await gotoApp(page, '/reports?tab=cross');
  await expect(page.getByRole('alert')).toContainText('marketing staff and admins');
  const csv = await page.request.get('/reports/export.csv?tab=cross&section=matrix');
  expect(csv.status()).toBe(403);
}

/** An admin sets business hours on the report settings page: a schedule that is not one is
 * refused in words; a good one is saved, the reports are recomputed in the background, and the
 * support tab then shows each time counted in business hours too. */
export async function adminSetsBusinessHours(page: Page): Promise<void> {
  await login(page, USERS.admin);
  await openReports(page);
  await page.getByRole('link', { name: 'Report settings' }).click();
  await expect(page.getByRole('heading', { name: 'Report settings', level: 1 })).toBeVisible();
  if (jsEnabled()) await waitForHydration(page);
  await expect(page.getByLabel('Time zone')).not.toHaveValue('');
  const hours = page.getByLabel('Business hours');
  await hours.fill('Mon-Fri 17:00-09:00');
  await page.getByRole('button', { name: 'Save and recompute' }).click();
  await expect(page.getByRole('alert')).toContainText('closing time must come after the opening time');
  if (jsEnabled()) await waitForHydration(page);
  await page.getByLabel('Business hours').fill('mon - fri 9:00-17:30');
  await page.getByRole('button', { name: 'Save and recompute' }).click();
  if (jsEnabled()) {
    await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
  }
  // Written back the one way the page shows it.
  await gotoApp(page, '/reports/settings');
  await expect(page.getByLabel('Business hours')).toHaveValue('Mon-Fri 09:00-17:30');
  await screenshot(page, 'report-settings-1400');
  // The worker rebuilds within seconds; the support tab then has the business-hours rows.
  await expect(async () => {
    await gotoApp(page, '/reports?range=30');
    await expect(page.getByRole('rowheader', { name: 'First response, business hours' })).toBeVisible({ timeout: 1000 });
    await expect(page.getByText('being recomputed')).toHaveCount(0);
  }).toPass({ timeout: 30_000 });
}
