// Writes pre-signed webhook requests for bench/ingest/webhooks.sh, one per line:
//   <header value>\t<raw JSON body>
// telegram: the header is the channel's secret token (X-Telegram-Bot-Api-Secret-Token);
// whatsapp: "sha256=<hex HMAC-SHA256(app secret, body)>" (X-Hub-Signature-256), over
// the exact bytes sent, with Persian text as \uXXXX escapes the way Meta sends it.
// Every request carries fresh provider ids (update_id / wamid), so none is a
// duplicate; customers are drawn from $BENCH_CUSTOMERS (default 50000).
//   node webhook_bodies.mjs telegram|whatsapp COUNT ID_BASE SECRET OUT_FILE
import { createWriteStream } from 'node:fs';
import crypto from 'node:crypto';

const [shape, countText, baseText, secret, out] = process.argv.slice(2);
if (!['telegram', 'whatsapp'].includes(shape) || !out) {
  console.error('usage: node webhook_bodies.mjs telegram|whatsapp COUNT ID_BASE SECRET OUT_FILE');
  process.exit(2);
}
const count = Number(countText), base = Number(baseText);
const customers = Number(process.env.BENCH_CUSTOMERS || 50000);
const PHONE_ID = process.env.BENCH_WA_PHONE_ID || '106540352242922';
// JSON.stringify keeps non-ASCII as is; Meta escapes it.
const metaJson = (v) => JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const now = Math.floor(Date.now() / 1000);

function telegram(i) {
  const customer = 1 + Math.floor(Math.random() * customers);
  const id = 5_100_000_000 + customer;
  const user = { id, is_bot: false, first_name: 'سارا', last_name: `مشتری ${customer}`, language_code: 'fa' };
  return JSON.stringify({
    update_id: base + i,
    message: { message_id: base + i, from: user, chat: { ...user, type: 'private', is_bot: undefined }, date: now,
      text: `سلام، گارانتی دستگاه من تا کی اعتبار دارد؟ سفارش ${base + i}` },
  });
}

function whatsapp(i) {
  const customer = 1 + Math.floor(Math.random() * customers);
  const waId = `98912${String(customer).padStart(7, '0')}`;
  return metaJson({
    object: 'whatsapp_business_account',
    entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550783881', phone_number_id: PHONE_ID },
      contacts: [{ profile: { name: `مریم ${customer}` }, wa_id: waId }],
      messages: [{ from: waId, id: `wamid.bench${base + i}`, timestamp: String(now), type: 'text',
        text: { body: `سلام، گارانتی دستگاه من تا کی اعتبار دارد؟ سفارش ${base + i}` } }],
    } }] }],
  });
}

const file = createWriteStream(out);
for (let i = 0; i < count; i++) {
  const body = shape === 'telegram' ? telegram(i) : whatsapp(i);
  const header = shape === 'telegram' ? secret : `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`;
  if (!file.write(`${header}\t${body}\n`)) await new Promise((r) => file.once('drain', r));
}
file.end();
await new Promise((r) => file.once('finish', r));
