// The preference center (issue 18) with JavaScript off, for the agent and the customer: plain
// form posts; the agent's page shows each change after a reload.
import { test, expect } from './support';
import { preferenceCenter } from './preferences.flow';

test('without JavaScript: the customer chooses from an emailed link on a phone; the agent sees each choice', async ({ page, browser, request }) => {
  expect(test.info().project.use.javaScriptEnabled).toBe(false);
  await preferenceCenter(page, browser, request);
});
