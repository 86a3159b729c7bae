// Find and work fast (issue 14), hydrated: search, labels, saved views, the keyboard.
import { test, expect, USERS, login, gotoApp, timeline, screenshot, uniqueSuffix, installHydrationProbe, waitForHydration } from './support';
import type { Page } from '@playwright/test';

function results(page: Page) {
  return page.getByRole('navigation', { name: 'Search results' });
}

async function searchFor(page: Page, q: string) {
  const box = page.getByRole('searchbox', { name: 'Search conversations' });
  await box.fill(q);
  await box.press('Enter');
  await expect(page).toHaveURL(/[?&]q=/);
  // Only the words: no empty parameter for the unnamed Search button.
  expect(new URL(page.url()).searchParams.has('')).toBe(false);
}

test('search finds a word from an email and a phone number typed with spaces', async ({ page }) => {
  await login(page, USERS.support);
  await searchFor(page, 'brass');
  const ada = results(page).getByRole('link', { name: /Ada Lovelace/ });
  await expect(ada).toBeVisible();
  await expect(ada.locator('mark')).toHaveText(/brass/i);
  await screenshot(page, 'search-word');

  await searchFor(page, '+1 415 555 0101');
  await expect(results(page).getByRole('link', { name: /Ada Lovelace/ })).toBeVisible();
  await expect(results(page).getByRole('link')).toHaveCount(1);
  // Opening a result keeps the results beside the conversation.
  await results(page).getByRole('link', { name: /Ada Lovelace/ }).click();
  await expect(page).toHaveURL(/\/inbox\/\d+\?q=/);
  await expect(page.getByRole('heading', { level: 1, name: 'Ada Lovelace' })).toBeVisible();
  await expect(results(page)).toBeVisible();

  // Bad input is answered in words.
  await searchFor(page, 'colour:red "unclosed');
  await expect(page.getByText('Ignored (not a filter this search knows)')).toBeVisible();
  await expect(page.getByText(/quote was not closed/)).toBeVisible();
});

test('an admin makes a label, an agent applies it and filters by it, and saves a view', async ({ page, browser }) => {
  const name = `Priority ${uniqueSuffix()}`;
  await login(page, USERS.admin);
  await gotoApp(page, '/admin#labels');
  await page.getByLabel('New label').fill(name);
  await page.getByLabel('Colour', { exact: true }).selectOption('orange');
  await page.getByRole('button', { name: 'Add label' }).click();
  await expect(page.locator('.label-admin .label-chip', { hasText: name })).toBeVisible();

  const ctx = await browser.newContext();
  await installHydrationProbe(ctx);
  const agent = await ctx.newPage();
  await login(agent, USERS.support);
  await agent.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /Grace Hopper/ }).first().click();
  await expect(agent.getByRole('heading', { level: 1, name: 'Grace Hopper' })).toBeVisible();
  await agent.getByText('+ Label').click();
  await agent.getByLabel('Label to add').selectOption({ label: name });
  await agent.getByRole('button', { name: 'Add label' }).click();
  await expect(agent.getByRole('list', { name: 'Labels' }).getByText(name)).toBeVisible();
  await expect(timeline(agent).getByText(`added the label ${name}`)).toBeVisible();

  // The list filtered by the label holds Grace only.
  await agent.getByRole('navigation', { name: 'Label filter' }).getByRole('link', { name }).click();
  const list = agent.getByRole('navigation', { name: 'Conversations' });
  await expect(list.getByRole('link')).toHaveCount(1);
  await expect(list.getByRole('link', { name: /Grace Hopper/ })).toBeVisible();

  // Search with the label, save it as a view; the view shows in the sidebar with its count.
  await searchFor(agent, `label:"${name}"`);
  await expect(results(agent).getByRole('link', { name: /Grace Hopper/ })).toBeVisible();
  await agent.getByText('Save this search as a view').click();
  const viewName = `Mine ${uniqueSuffix()}`;
  await agent.getByLabel('Name', { exact: true }).fill(viewName);
  await agent.getByRole('button', { name: 'Save view' }).click();
  const views = agent.getByRole('navigation', { name: 'Saved views' });
  await expect(views.getByRole('link', { name: new RegExp(`${viewName}.*1 conversation`) })).toBeVisible();
  await screenshot(agent, 'saved-view');

  // Several at once from the list: tick two conversations, add the label to both.
  await agent.goto('/inbox');
  await waitForHydration(agent);
  await agent.getByRole('checkbox', { name: 'Select Hedy Lamarr' }).check();
  await agent.getByRole('checkbox', { name: 'Select Radia Perlman' }).check();
  const bulk = agent.getByRole('form', { name: 'Label the selected conversations' });
  await expect(bulk).toBeVisible();
  await bulk.getByLabel('Label', { exact: true }).selectOption({ label: name });
  await bulk.getByRole('button', { name: 'Apply to selected' }).click();
  const rows = agent.getByRole('navigation', { name: 'Conversations' });
  await expect(rows.getByRole('link', { name: new RegExp(`Hedy Lamarr.*${name}`) })).toBeVisible();
  await expect(rows.getByRole('link', { name: new RegExp(`Radia Perlman.*${name}`) })).toBeVisible();
  await screenshot(agent, 'bulk-labels');

  // Taken off again.
  await agent.getByRole('link', { name: /Grace Hopper/ }).first().click();
  await agent.getByRole('button', { name: `Remove label ${name}` }).click();
  await expect(agent.getByRole('list', { name: 'Labels' }).getByText(name)).toHaveCount(0);
  await ctx.close();
});

test('triage with the keyboard only', async ({ page }) => {
  await login(page, USERS.support);
  // "?" shows the shortcuts; Escape closes them.
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toHaveCount(0);

  // "/" focuses the search box; a search; j moves to the first result; Enter opens it.
  await page.keyboard.press('/');
  await expect(page.getByRole('searchbox', { name: 'Search conversations' })).toBeFocused();
  await page.keyboard.type('juggling');
  await page.keyboard.press('Enter');
  await expect(results(page).getByRole('link', { name: /Claude Shannon/ })).toBeVisible();
  await page.keyboard.press('Escape');
  await page.keyboard.press('j');
  await expect(results(page).getByRole('link', { name: /Claude Shannon/ })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'Claude Shannon' })).toBeVisible();

  // n writes a note, Ctrl+Enter adds it, Escape leaves the field; a assigns to me; e resolves.
  await page.keyboard.press('n');
  await expect(page.getByRole('textbox', { name: 'Private note' })).toBeFocused();
  const note = `Keyboard note ${uniqueSuffix()}`;
  await page.keyboard.type(note);
  await page.keyboard.press('Control+Enter');
  await expect(timeline(page).locator('article.note', { hasText: note })).toBeVisible();
  await page.keyboard.press('Escape');
  await page.keyboard.press('a');
  await expect(timeline(page).getByText(/assigned the conversation to Sam Support/)).toBeVisible();
  await page.keyboard.press('e');
  await expect(timeline(page).locator('div.event', { hasText: 'Resolved' }).last()).toBeVisible();
  // Letters typed in a field stay in the field.
  await page.keyboard.press('r');
  const reply = page.getByRole('textbox', { name: 'Message', exact: true });
  await expect(reply).toBeFocused();
  await page.keyboard.type('jek');
  await expect(reply).toHaveValue('jek');
  await expect(page.getByRole('heading', { level: 1, name: 'Claude Shannon' })).toBeVisible();

  // Ctrl+K: the palette jumps to a customer.
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+k');
  const palette = page.getByRole('dialog', { name: 'Command palette' });
  await expect(palette).toBeVisible();
  await page.keyboard.type('Hedy');
  await expect(palette.getByRole('option', { name: /Open Hedy Lamarr/ })).toBeVisible();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'Hedy Lamarr' })).toBeVisible();
});

test('two agents see each other viewing and typing, and a reply sent meanwhile', async ({ browser }) => {
  const a = await browser.newContext();
  const b = await browser.newContext();
  await installHydrationProbe(a);
  await installHydrationProbe(b);
  const sam = await a.newPage();
  const alex = await b.newPage();
  await login(sam, USERS.support);
  await login(alex, USERS.support2);
  const open = async (page: Page) => {
    await page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /Dorothy Vaughan/ }).first().click();
    await expect(page.getByRole('heading', { level: 1, name: 'Dorothy Vaughan' })).toBeVisible();
  };
  await open(sam);
  await open(alex);
  await expect(sam.getByText('Alex Agent is viewing this conversation.')).toBeVisible({ timeout: 5_000 });
  await expect(alex.getByText('Sam Support is viewing this conversation.')).toBeVisible({ timeout: 5_000 });

  // Sam writes: Alex sees it within a second or two.
  const samReply = sam.getByRole('textbox', { name: 'Message', exact: true });
  await samReply.fill('Yes, students get 20% off the FORTRAN course.');
  await samReply.press('End');
  await samReply.type(' ');
  await expect(alex.getByText('Sam Support is writing a reply.')).toBeVisible({ timeout: 5_000 });
  await screenshot(alex, 'collision-typing');

  // Alex replies first: Sam is told before sending.
  const alexReply = alex.getByRole('textbox', { name: 'Message', exact: true });
  const alexText = `Hi Dorothy, yes: 20% off with a student card (${uniqueSuffix()}).`;
  await alexReply.fill(alexText);
  await alex.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(timeline(alex).getByText(alexText)).toBeVisible();
  await expect(sam.getByRole('alert').filter({ hasText: 'Alex Agent replied while you were writing' })).toBeVisible({ timeout: 5_000 });
  await screenshot(sam, 'collision-replied');
  // Sam's draft is still there.
  await expect(samReply).toHaveValue(/students get 20% off/);

  // Alex leaves: Sam no longer sees Alex.
  await alex.goto('/inbox');
  await expect(sam.getByText('Alex Agent is viewing this conversation.')).toHaveCount(0, { timeout: 5_000 });
  await a.close();
  await b.close();
});

test('a canned response typed with / is filled in and converted for SMS', async ({ page }) => {
  await login(page, USERS.support);
  // Edsger Dijkstra wrote by SMS only: the reply goes out by SMS.
  await page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /Edsger Dijkstra/ }).first().click();
  await expect(page.getByRole('heading', { level: 1, name: 'Edsger Dijkstra' })).toBeVisible();
  const reply = page.getByRole('textbox', { name: 'Message', exact: true });
  await reply.click();
  await page.keyboard.type('/ship');
  const list = page.getByRole('listbox', { name: 'Canned responses' });
  await expect(list.getByRole('option', { name: /shipping/ })).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(reply).toHaveValue(/^Hi Edsger, orders leave our warehouse/);
  await expect(list).toBeHidden();
  // The SMS counter counts the inserted text.
  await expect(page.locator('.counter')).toContainText('segment');
  // A placeholder for the identifier: the customer's number on this channel.
  await reply.fill('');
  await page.keyboard.type('/later');
  await page.keyboard.press('Enter');
  await expect(reply).toHaveValue(/\+31205550100/);
  await screenshot(page, 'canned-inserted');
});
