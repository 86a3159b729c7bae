import {
  test,
  expect,
  USERS,
  login,
  conversationList,
  timeline,
  screenshot,
  installHydrationProbe,
  randomPhone,
  uniqueSuffix,
  gotoApp,
} from './support';

test('a playground message reaches another agent live; the reply reaches the customer', async ({ page, browser, baseURL }) => {
  test.setTimeout(90_000);
  const suffix = uniqueSuffix();
  const phone = randomPhone();
  const customerName = `Live Test ${suffix}`;
  const inboundText = `Hello from the playground ${suffix}`;
  const replyText = `Reply from Alex ${suffix}`;

  // Agent B (support2) in their own browser context, watching the inbox.
  const contextB = await browser.newContext({ baseURL });
  await installHydrationProbe(contextB);
  const pageB = await contextB.newPage();
  try {
    await login(pageB, USERS.support2);
    const listB = conversationList(pageB);
    await expect(listB.locator('a').first()).toBeVisible();
    await expect(listB.getByRole('link', { name: new RegExp(customerName) })).toHaveCount(0);
    // Marks this document: if the list only shows the customer after a reload, this is gone.
    await pageB.evaluate(() => ((window as unknown as { __e2eMarker?: string }).__e2eMarker = 'no-reload'));

    // Agent A (support) plays a brand-new customer on SMS.
    const pageA = page;
    await login(pageA, USERS.support);
    await gotoApp(pageA, '/playground');
    await expect(pageA.getByRole('heading', { name: 'Playground' })).toBeVisible();
    await pageA.getByRole('combobox', { name: 'Channel' }).selectOption('sms');
    await pageA.getByRole('textbox', { name: 'Customer identifier' }).fill(phone);
    await pageA.getByRole('textbox', { name: 'Customer name' }).fill(customerName);
    await pageA.getByRole('textbox', { name: 'Message', exact: true }).fill(inboundText);
    await pageA.getByRole('button', { name: 'Send as customer' }).click();

    const customerView = pageA.getByRole('region', { name: 'Customer view' });
    await expect(customerView.locator('li[data-direction="in"]', { hasText: inboundText })).toBeVisible({ timeout: 5_000 });

    // B's list shows the new customer without a reload.
    const newConversation = listB.getByRole('link', { name: new RegExp(customerName) });
    await expect(newConversation).toBeVisible({ timeout: 5_000 });
    await expect(newConversation).toHaveAttribute('data-channel', 'sms');
    await expect(newConversation.getByLabel('SMS', { exact: true })).toBeVisible();
    expect(await pageB.evaluate(() => (window as unknown as { __e2eMarker?: string }).__e2eMarker)).toBe('no-reload');
    await screenshot(pageB, 'live-inbox-new-customer');

    // B opens it (it is unread until then), looks at another conversation and comes back: the
    // row is read from the moment it was opened, without waiting for the list to be fetched again.
    await expect(newConversation).toHaveClass(/\bunread\b/);
    await newConversation.click();
    await expect(pageB).toHaveURL(/\/inbox\/\d+/);
    const tl = timeline(pageB);
    await expect(tl.locator('article[data-direction="in"][data-channel="sms"]', { hasText: inboundText })).toBeVisible();
    await listB.locator('a.conversation:not(.selected)').first().click();
    await expect(newConversation).not.toHaveClass(/\bselected\b/);
    await expect(newConversation).not.toHaveClass(/\bunread\b/);
    expect(await pageB.evaluate(() => (window as unknown as { __e2eMarker?: string }).__e2eMarker)).toBe('no-reload');
    await newConversation.click();
    await expect(tl.locator('article[data-direction="in"][data-channel="sms"]', { hasText: inboundText })).toBeVisible();
    await expect(pageB.getByRole('complementary', { name: 'Customer' }).getByRole('heading', { name: customerName })).toBeVisible();

    const via = pageB.getByRole('combobox', { name: 'Reply via' });
    await expect(via).toBeEnabled();
    const options = await via.locator('option').evaluateAll((els) =>
      els.map((o) => ({ value: (o as HTMLOptionElement).value, label: (o.textContent ?? '').trim() })),
    );
    const phoneDigits = phone.replace(/\D/g, '');
    const smsOption = options.find((o) => o.label.startsWith('SMS') && o.label.replace(/\D/g, '').includes(phoneDigits));
    expect(smsOption, `a "Reply via" option for SMS to ${phone}; options were: ${JSON.stringify(options)}`).toBeTruthy();
    await via.selectOption(smsOption!.value);
    await pageB.getByRole('textbox', { name: 'Message', exact: true }).fill(replyText);
    await pageB.getByRole('button', { name: 'Send', exact: true }).click();

    const outbound = tl.locator('article[data-direction="out"]', { hasText: replyText });
    await expect(outbound).toBeVisible({ timeout: 5_000 });
    await expect(outbound).toHaveAttribute('data-channel', 'sms');
    await expect(outbound.locator('.delivery')).toHaveText('delivered', { timeout: 15_000 });
    // The Send button was disabled while the reply went: focus is back in the reply box.
    await expect(pageB.getByRole('textbox', { name: 'Message', exact: true })).toBeFocused();
    await screenshot(pageB, 'live-conversation-replied');

    // What arrives while the conversation is open is read: the list drawn afresh shows the row
    // as read. B is half-way through a reply meanwhile: the redrawn conversation keeps the reply
    // box focused with its text, and what B types next goes on where the caret was.
    const box = pageB.getByRole('textbox', { name: 'Message', exact: true });
    await box.fill('Half a reply');
    await box.focus();
    const more = `One more thing ${suffix}`;
    await pageA.getByRole('textbox', { name: 'Message', exact: true }).fill(more);
    await pageA.getByRole('button', { name: 'Send as customer' }).click();
    await expect(tl.locator('article[data-direction="in"]', { hasText: more })).toBeVisible({ timeout: 5_000 });
    await expect
      .poll(async () => {
        const r = await pageB.request.get('/inbox');
        const html = await r.text();
        const row = html.split('<a ').find((a) => a.includes(customerName)) ?? '';
        return row.split('>')[0].includes('unread'); // the row link's own classes
      }, { timeout: 5_000 })
      .toBe(false);
    await expect(box).toBeFocused();
    await expect(box).toHaveValue('Half a reply');
    await pageB.keyboard.type(' and the rest');
    await expect(box).toHaveValue('Half a reply and the rest');

    // The rest of what B is doing outlives the next redraw too: files picked to send, a
    // consent change half filled in (its folded sections stay open).
    const files = pageB.locator('details.attach');
    await files.locator('summary').click();
    await pageB.locator('#files-input').setInputFiles({ name: `notes-${suffix}.txt`, mimeType: 'text/plain', buffer: Buffer.from('hello') });
    await pageB.locator('#files-body').fill(`Files text ${suffix}`);
    const panel = pageB.getByRole('complementary', { name: 'Customer' });
    const record = panel.locator('details.consent-record');
    await record.locator('summary').click();
    await record.getByLabel('Consent', { exact: true }).selectOption('yes');
    const reason = record.getByLabel('Reason');
    await reason.fill(`asked by phone ${suffix}`);
    // The conversation is fetched again when the message arrives, and its parts drawn from it.
    const refetched = pageB.waitForResponse((r) => new URL(r.url()).pathname === '/api/conversation' && r.ok());
    const again = `And another thing ${suffix}`;
    await pageA.getByRole('textbox', { name: 'Message', exact: true }).fill(again);
    await pageA.getByRole('button', { name: 'Send as customer' }).click();
    await expect(tl.locator('article[data-direction="in"]', { hasText: again })).toBeVisible({ timeout: 5_000 });
    await refetched;
    await pageB.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    await expect(files).toHaveAttribute('open', '');
    await expect.poll(() => pageB.locator('#files-input').evaluate((i) => (i as HTMLInputElement).files?.[0]?.name ?? '')).toBe(`notes-${suffix}.txt`);
    await expect(pageB.locator('#files-body')).toHaveValue(`Files text ${suffix}`);
    await expect(record).toHaveAttribute('open', '');
    await expect(record.getByLabel('Consent', { exact: true })).toHaveValue('yes');
    await expect(reason).toHaveValue(`asked by phone ${suffix}`);
    await expect(box).toHaveValue('Half a reply and the rest');
    // Recording it folds and empties that form (it is not sent twice by mistake), the change is
    // in the panel, and the other forms keep what B was doing.
    await record.getByRole('button', { name: 'Record' }).click();
    await expect(panel.locator('.consent-history li[data-purpose="marketing"][data-granted="true"]', { hasText: `asked by phone ${suffix}` })).toHaveCount(1, { timeout: 5_000 });
    await expect(record).not.toHaveAttribute('open', '');
    await expect(reason).toHaveValue('');
    await expect(record.getByLabel('Consent', { exact: true })).toHaveValue('no');
    await expect(files).toHaveAttribute('open', '');
    await expect(pageB.locator('#files-body')).toHaveValue(`Files text ${suffix}`);
    await expect(box).toHaveValue('Half a reply and the rest');

    // The customer (A's playground, same channel + identifier) sees the reply.
    const reply = customerView.locator('li[data-direction="out"]', { hasText: replyText });
    await expect(reply).toBeVisible({ timeout: 10_000 });
    await expect(reply.locator('.delivery')).toHaveText(/^(sent|delivered)$/);
    await screenshot(pageA, 'playground');
  } finally {
    await contextB.close();
  }
});
