import { test } from './support';
import { addAndEditProviderAccounts } from './provider-accounts.flow';

test('admin adds a Twilio number and a Telegram bot, copies the webhook URL, edits with a refusal (hydrated)', async ({ page }) => {
  await addAndEditProviderAccounts(page);
});
