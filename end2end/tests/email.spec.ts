// Email end to end, against the real Dovecot and SMTP servers started by scripts/e2e-server.sh:
// a customer's email arrives live, the agent answers by email, the customer's mailbox gets a
// properly threaded reply, and the customer's answer lands in the same conversation.
import { test, expect, USERS, login, conversationList, timeline, screenshot, waitForHydration, uniqueSuffix } from './support';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

const MAIL_DIR = path.resolve(__dirname, '../../target/e2e/mail');
const SUPPORT = 'support@shop.test';
const CUSTOMER = 'ann.e2e@customer.test';

/** Submits one message to the test SMTP server (port 3025), speaking SMTP over a socket. */
async function smtpSend(from: string, to: string, message: string): Promise<void> {
  const sock = net.createConnection(3025, '127.0.0.1');
  sock.setEncoding('utf8');
  let buffer = '';
  const waiters: Array<(line: string) => void> = [];
  sock.on('data', (chunk: string) => {
    buffer += chunk;
    let i: number;
    while ((i = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      // Multi-line replies ("250-...") end with "250 ...".
      if (/^\d{3} /.test(line)) waiters.shift()?.(line);
    }
  });
  const reply = () => new Promise<string>((resolve) => waiters.push(resolve));
  const expectCode = async (code: string, what: string) => {
    const line = await reply();
    if (!line.startsWith(code)) throw new Error(`SMTP ${what}: ${line}`);
  };
  await expectCode('220', 'greeting');
  for (const [cmd, code] of [
    ['EHLO e2e.test', '250'],
    [`MAIL FROM:<${from}>`, '250'],
    [`RCPT TO:<${to}>`, '250'],
    ['DATA', '354'],
  ]) {
    sock.write(cmd + '\r\n');
    await expectCode(code, cmd);
  }
  sock.write(message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..') + '\r\n.\r\n');
  await expectCode('250', 'message');
  sock.write('QUIT\r\n');
  sock.end();
}

/** Messages the SMTP server accepted for `rcpt`, newest last. */
function deliveredTo(rcpt: string): string[] {
  const dir = path.join(MAIL_DIR, 'smtp-copies');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort((a, b) => parseInt(a) - parseInt(b))
    .filter((f) => {
      const env = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      return (env.rcpt_tos as string[]).some((r) => r.toLowerCase() === rcpt);
    })
    .map((f) => fs.readFileSync(path.join(dir, f.replace(/\.json$/, '.eml')), 'utf8'));
}

function header(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':'));
  return line?.slice(name.length + 1).trim();
}

test('a customer email arrives live, the agent replies by email, the answer threads back', async ({ page }) => {
  const s = uniqueSuffix();
  const firstId = `first-${s}@customer.test`;
  await login(page, USERS.support);
  await waitForHydration(page);

  await smtpSend(
    CUSTOMER,
    SUPPORT,
    `From: Ann Email <${CUSTOMER}>\nTo: Shop <${SUPPORT}>\nSubject: Parcel ${s}\nMessage-ID: <${firstId}>\n` +
      `Date: ${new Date().toUTCString()}\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="b"\n\n` +
      `--b\nContent-Type: text/plain\n\nMy parcel ${s} is late.\n--b\nContent-Type: text/html\n\n` +
      `<p>My parcel <b>${s}</b> is late.</p><script>document.title='pwned'</script><img src="https://tracker.example/p.gif">\n--b--\n`,
  );
  // It appears in the inbox without a reload.
  const conv = conversationList(page).getByRole('link', { name: /Ann Email/ }).first();
  await expect(conv).toBeVisible({ timeout: 20_000 });
  await conv.click();
  await expect(page).toHaveURL(/\/inbox\/\d+/);
  const tl = timeline(page);
  const inbound = tl.locator('article[data-direction="in"][data-channel="email"]').last();
  await expect(inbound).toBeVisible();
  // The HTML body is in a sandboxed frame; its script did not run and the tracker is not loaded.
  const frame = inbound.locator('iframe.email-frame');
  await expect(frame).toHaveAttribute('sandbox', /allow-same-origin/);
  await expect(frame).not.toHaveAttribute('sandbox', /allow-scripts/);
  await expect(page.frameLocator('iframe.email-frame').last().getByText(`is late.`)).toBeVisible();
  expect(await page.title()).not.toBe('pwned');
  await expect(page.frameLocator('iframe.email-frame').last().locator('script')).toHaveCount(0);
  await expect(page.frameLocator('iframe.email-frame').last().locator('img[src^="https:"]')).toHaveCount(0);
  // The frame grows or shrinks to its content once the page is interactive.
  await expect.poll(() => frame.evaluate((f) => f.getBoundingClientRect().height)).toBeLessThan(200);

  // Reply by email (the default: where the customer last wrote).
  const via = page.getByRole('combobox', { name: 'Reply via' });
  const chosen = await via.locator('option:checked').textContent();
  expect(chosen ?? '').toMatch(/^Email/);
  const answer = `Your parcel ${s} ships today.`;
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(answer);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const outbound = tl.locator('article[data-direction="out"]', { hasText: answer });
  await expect(outbound).toBeVisible();
  await expect(outbound.locator('.delivery')).toHaveText('sent', { timeout: 20_000 });
  await screenshot(page, 'email-conversation');

  // The customer's mail server received it, threaded to their message.
  await expect.poll(() => deliveredTo(CUSTOMER).filter((m) => m.includes(answer)).length, { timeout: 10_000 }).toBe(1);
  const sent = deliveredTo(CUSTOMER).find((m) => m.includes(answer))!;
  expect(header(sent, 'In-Reply-To')).toBe(`<${firstId}>`);
  expect(header(sent, 'References')).toContain(`<${firstId}>`);
  expect(header(sent, 'Subject')).toBe(`Re: Parcel ${s}`);
  const ourId = header(sent, 'Message-ID')!;
  expect(ourId).toMatch(/^<.+@shop\.test>$/);
  expect(header(sent, 'Reply-To')).toMatch(/support\+c\d+-[a-z0-9]+@shop\.test/);
  // And it is in the customer's real mailbox too.
  const annInbox = path.join(MAIL_DIR, 'mail', CUSTOMER, 'new');
  await expect.poll(() => fs.existsSync(annInbox) && fs.readdirSync(annInbox).some((f) => fs.readFileSync(path.join(annInbox, f), 'utf8').includes(answer))).toBe(true);

  // The customer answers; it lands in the same conversation, live.
  const thanks = `Thanks, ${s} arrived!`;
  await smtpSend(
    CUSTOMER,
    SUPPORT,
    `From: Ann Email <${CUSTOMER}>\nTo: ${SUPPORT}\nSubject: Re: Parcel ${s}\nMessage-ID: <second-${s}@customer.test>\n` +
      `In-Reply-To: ${ourId}\nReferences: <${firstId}> ${ourId}\nDate: ${new Date().toUTCString()}\n\n${thanks}\n\n` +
      `On Sun, Shop Support wrote:\n> ${answer}\n`,
  );
  const answerArticle = tl.locator('article[data-direction="in"]', { hasText: thanks });
  await expect(answerArticle).toBeVisible({ timeout: 20_000 });
  // The quoted history is folded away.
  await expect(answerArticle.locator('details.quoted summary')).toHaveText('Show quoted text');
  await expect(answerArticle.locator('details.quoted')).not.toHaveAttribute('open', '');
  const order = await tl.locator('article').evaluateAll((els) => els.map((e) => e.textContent ?? ''));
  const iAnswer = order.findIndex((t) => t.includes(answer));
  const iThanks = order.findIndex((t) => t.includes(thanks));
  expect(iAnswer).toBeGreaterThan(-1);
  expect(iThanks).toBeGreaterThan(iAnswer);
  await screenshot(page, 'email-answer-threaded');
});
