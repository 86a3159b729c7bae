// The preference center (issue 18) with the agent's page hydrated: each of the customer's
// changes reaches the agent's panel and composer live, without a reload.
import { test } from './support';
import { preferenceCenter } from './preferences.flow';

test('the customer chooses from an emailed link on a phone; the agent sees each choice live', async ({ page, browser, request }) => {
  await preferenceCenter(page, browser, request);
});
