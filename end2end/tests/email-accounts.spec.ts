import { test } from './support';
import { addAndEditEmailAccount } from './email-accounts.flow';

test('admin adds an email mailbox, tests it, edits it keeping the passwords (hydrated)', async ({ page }) => {
  await addAndEditEmailAccount(page);
});
