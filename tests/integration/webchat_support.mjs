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
