import { test, expect } from './support';
import { addAndEditEmailAccount } from './email-accounts.flow';

// JavaScript off: every form posts to its server function, which redirects back to the page.
test('without JavaScript: admin adds an email mailbox and edits it keeping the passwords', async ({ page }) => {
  expect(test.info().project.use.javaScriptEnabled).toBe(false);
  await addAndEditEmailAccount(page);
});
