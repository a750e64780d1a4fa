// What the web chat tests share: a new visitor's token, and a customer
// socket past its hello, as the widget opens them.
import { WsClient } from '../support/harness.mjs';

export async function newVisitor(gw, channel = 'web') {
  const res = await fetch(`${gw.base}/api/v1/webchat/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel }),
  });
  return (await res.json()).token;
}

// `resume`: the hello's conv and after (its last seq); `until`: the frame
// waited for ('welcome', or 'synced' once the replay is done).
export async function chatSocket(gw, token, { resume = {}, until = 'welcome', channel = 'web' } = {}) {
  const c = new WsClient(`${gw.wsBase}/ws/chat?channel=${channel}`);
  await c.opened();
  c.send({ type: 'hello', v: 1, token, lang: 'en', ...resume });
  await c.next((f) => f.type === until);
  return c;
}

// The verification mails' subjects, in each language.
export const isVerificationMail = (m) =>
  ['Confirm your email address', 'تأیید نشانی ایمیل', 'تأكيد البريد الإلكتروني'].includes(m.subject);

// The verification mail to `address` in the MailDev `sink` (not the mail
// `before`, an earlier one) and the code in it, on a line of its own.
export async function mailedCode(sink, address, before) {
  const mail = await sink.waitFor((m) => m.to?.[0]?.address === address && isVerificationMail(m) && m.id !== before?.mail.id,
    `the verification mail to ${address}`);
  const code = mail.text.match(/^(\d{6})$/m);
  if (!code) throw new Error(`no code in: ${mail.text}`);
  return { mail, code: code[1] };
}

// The visitor's chat sends a code: email_verified, or the error frame.
export async function typesCode(c, code) {
  c.send({ type: 'verify_email', code });
  return c.next((f) => f.type === 'email_verified' || (f.type === 'error' && /code/.test(f.code)));
}
