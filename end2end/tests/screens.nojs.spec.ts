import { test, expect } from './support';
import { phoneNavigation, phoneOtherPages, tabTitle, timelineKeepsItsHeight, timesInTheAgentsZone } from './screens.flow';

// JavaScript off: the views are separate URLs and fragments (#customer), the server renders
// titles and times.
test.beforeEach(() => {
  expect(test.info().project.use.javaScriptEnabled).toBe(false);
});

test('without JavaScript, phone: list, conversation and customer panel as views', async ({ page }) => {
  await phoneNavigation(page);
});

test('without JavaScript, phone: login, playground and admin fit the screen', async ({ page }) => {
  await phoneOtherPages(page);
});

test('without JavaScript: the tab title shows the open conversation and the unread count', async ({ page }) => {
  await tabTitle(page);
});

test('without JavaScript: the timeline keeps a usable height', async ({ page }) => {
  await timelineKeepsItsHeight(page);
});

test('without JavaScript: times in UTC saying so, or in the zone of the tz cookie', async ({ page }) => {
  await timesInTheAgentsZone(page);
});
