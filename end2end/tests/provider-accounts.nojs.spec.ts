import { test, expect } from './support';
import { addAndEditProviderAccounts } from './provider-accounts.flow';

// JavaScript off: every form posts to its server function, which redirects back to the page.
test('without JavaScript: admin adds a Twilio number and a Telegram bot and edits them', async ({ page }) => {
  expect(test.info().project.use.javaScriptEnabled).toBe(false);
  await addAndEditProviderAccounts(page);
});
