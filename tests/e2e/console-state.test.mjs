// Unit tests of the console's state module (web/console/js/store/state.js),
// which has no DOM dependency: dedupe, merge order, resume, pending replies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOSED_KEPT, ConsoleState, lastMessageOf, previewText } from '../../web/console/js/store/state.js';

const me = { id: 'ag_1', name: 'Ali', team: 'support', role: 'agent' };
const conv = (id, seq, extra = {}) => ({ id, seq, status: 'queued', assignee: '', team: 'support', customer_name: 'Sara',
  kind: 'api', channel: 'api', updated_at: 1000 + seq, last_customer_message_at: 1000 + seq, ...extra });
const msg = (id, seq, extra = {}, convExtra = {}) => ({ type: 'event', conv: id, seq, event: 'message',
  message: { id: `${id}:${seq}`, seq, author: 'customer', direction: 'in', text: `m${seq}`, ...extra },
  conversation: conv(id, seq, convExtra) });

function fresh() {
  const s = new ConsoleState();
  s.setAgent(me);
  return s;
}

test('an event is kept once per conv+seq, and an older state never replaces a newer one', () => {
  const s = fresh();
  s.replaceConversations([conv('cv_1', 3)]);
  assert.equal(s.applyEvent(msg('cv_1', 2)).duplicate, false);
  assert.equal(s.applyEvent(msg('cv_1', 2)).duplicate, true);
  assert.equal(s.timeline('cv_1').events.size, 1);
  assert.equal(s.conversations.get('cv_1').seq, 3, 'seq 2 state must not replace seq 3');
  s.applyEvent(msg('cv_1', 4, {}, { status: 'assigned', assignee: 'ag_1' }));
  assert.equal(s.conversations.get('cv_1').status, 'assigned');
});

test('the copies of a customer\'s files replace its URLs and ring for nothing', () => {
  const s = fresh();
  s.replaceConversations([conv('cv_1', 1)]);
  const url = 'https://scontent.xx.fbcdn.net/v/1_n.jpg?oh=00_sig';
  assert.equal(s.applyEvent(msg('cv_1', 1, { attachments: [{ kind: 'image', provider_ref: url }] })).customerMessage, true);
  const copies = { ...msg('cv_1', 2, { attachments: [{ kind: 'image', name: '1_n.jpg', provider_ref: 'att_c1' }] }), edit: true, copies: true };
  copies.message = { ...copies.message, id: 'cv_1:1', seq: 1 };
  assert.equal(s.applyEvent(copies).customerMessage, false, 'no new message');
  const shown = s.timeline('cv_1').messages();
  assert.equal(shown.length, 1);
  assert.equal(shown[0].message.attachments[0].provider_ref, 'att_c1');
  assert.equal(shown[0].message.edited_at, undefined);
});

test('a conversation transferred to a team not mine, or unassigned from me there, leaves my list unless it is on screen', () => {
  const s = fresh();
  s.replaceConversations([conv('cv_1', 1, { status: 'assigned', assignee: 'ag_1' }), conv('cv_2', 1),
    conv('cv_3', 1, { status: 'assigned', assignee: 'ag_1' }), conv('cv_4', 1, { team: 'sales', status: 'assigned', assignee: 'ag_1' }),
    conv('cv_5', 1, { team: 'sales', status: 'assigned', assignee: 'ag_1' })]);
  const transfer = (id, seq, extra) => ({ type: 'event', conv: id, seq, event: 'status', status: 'queued', reason: 'transfer',
    conversation: conv(id, seq, { team: 'warranty', ...extra }) });
  s.applyEvent(transfer('cv_1', 2));
  s.applyEvent(transfer('cv_2', 2));
  assert.ok(!s.conversations.has('cv_1'), 'no longer under Mine, nor anywhere');
  assert.ok(!s.conversations.has('cv_2'), 'gone from the team list');
  assert.equal(s.timelines.has('cv_1'), false);
  // Given to me in the other team: still mine.
  s.applyEvent(transfer('cv_3', 2, { status: 'assigned', assignee: 'ag_1' }));
  assert.ok(s.isMine(s.conversations.get('cv_3')));
  // Mine in a team not mine, back to its queue: gone, except the one I have open.
  s.select('cv_4');
  s.applyEvent(transfer('cv_4', 2, { team: 'sales' }));
  s.applyEvent(transfer('cv_5', 2, { team: 'sales' }));
  assert.equal(s.conversations.get('cv_4').team, 'sales');
  assert.ok(!s.conversations.has('cv_5'), 'the same, not on screen: gone');
  assert.deepEqual(s.counts().views, { mine: 1, unassigned: 1, team: 0, all: 2 });
  // An admin sees every team's.
  const admin = new ConsoleState();
  admin.setAgent({ ...me, role: 'admin' });
  admin.replaceConversations([conv('cv_1', 1)]);
  admin.applyEvent(transfer('cv_1', 2));
  assert.ok(admin.conversations.has('cv_1'));
});

test('views, status filters and counts; newest activity first', () => {
  const s = fresh();
  s.replaceConversations([conv('cv_1', 1), conv('cv_2', 5, { status: 'assigned', assignee: 'ag_1' }),
    conv('cv_3', 2, { status: 'bot' }), conv('cv_4', 9, { status: 'assigned', assignee: 'ag_9' })]);
  const { views, statuses } = s.counts();
  assert.deepEqual(views, { mine: 1, unassigned: 1, team: 4, all: 4 });
  assert.deepEqual(statuses, { any: 4, bot: 1, queued: 1, assigned: 2, snoozed: 0 });
  assert.deepEqual(s.visibleConversations().map((c) => c.id), ['cv_4', 'cv_2', 'cv_3', 'cv_1']);
  s.setView('unassigned'); // waiting in a queue: not with the bot
  assert.deepEqual(s.visibleConversations().map((c) => c.id), ['cv_1']);
  s.setView('all');
  s.setStatusFilter('bot');
  assert.deepEqual(s.visibleConversations().map((c) => c.id), ['cv_3']);
  // A snoozed conversation has no assignee but is not waiting.
  s.applyEvent(msg('cv_1', 2, {}, { status: 'snoozed' }));
  assert.deepEqual(s.counts().views, { mine: 1, unassigned: 0, team: 4, all: 4 });
  assert.equal(s.counts().statuses.snoozed, 1);
});

test('a snoozed conversation of mine stays under Mine, as routing counts it', () => {
  const s = fresh();
  s.replaceConversations([conv('cv_1', 1, { status: 'assigned', assignee: 'ag_1' }), conv('cv_2', 1)]);
  s.applyEvent({ type: 'event', conv: 'cv_1', seq: 2, event: 'status', status: 'snoozed', from: 'assigned',
    conversation: conv('cv_1', 2, { status: 'snoozed', assignee: 'ag_1' }) });
  assert.equal(s.counts().views.mine, 1);
  assert.equal(s.counts().statuses.snoozed, 1);
  s.setView('mine');
  assert.deepEqual(s.visibleConversations().map((c) => c.id), ['cv_1']);
});

// A backlog of 250 queued: the welcome lists the newest 200 and the queue's
// head (here the 25 waiting longest), and counts all 250.
test('with a backlog beyond the welcome, the badges are the server\'s counts kept up by events, and Unassigned is in queue order', () => {
  const s = fresh();
  const queued = Array.from({ length: 250 }, (_, i) => conv(`cv_${i + 1}`, 3, { queued_at: 10 + i, updated_at: 10 + i }));
  const listed = [...queued.slice(50), ...queued.slice(0, 25)];
  s.replaceConversations(listed, 250, { mine: 0, unassigned: 250, team: 250, all: 250 });
  assert.deepEqual(s.counts().views, { mine: 0, unassigned: 250, team: 250, all: 250 });
  assert.equal(s.counts().statuses.queued, 250, 'the Queued filter agrees');
  assert.equal(s.counts().statuses.any, 250);
  s.setView('unassigned');
  assert.deepEqual(s.visibleConversations().slice(0, 3).map((c) => c.id), ['cv_1', 'cv_2', 'cv_3'], 'the longest waiting first');
  assert.equal(s.visibleConversations().at(-1).id, 'cv_250');
  // Urgent goes first, whoever waited longer.
  s.applyEvent({ type: 'event', conv: 'cv_200', seq: 4, event: 'priority', conversation: { ...queued[199], seq: 4, priority: 'urgent' } });
  assert.equal(s.visibleConversations()[0].id, 'cv_200');
  // One the welcome did not list is taken by another agent: counted once, as it is now.
  s.applyEvent({ type: 'event', conv: 'cv_30', seq: 4, event: 'status', status: 'assigned', from: 'queued', assignee: 'ag_9',
    conversation: { ...queued[29], seq: 4, status: 'assigned', assignee: 'ag_9' } });
  assert.deepEqual(s.counts().views, { mine: 0, unassigned: 249, team: 250, all: 250 });
  // Another unlisted one writes again: held now, still counted once.
  s.applyEvent(msg('cv_40', 4, {}, { queued_at: 49 }));
  assert.equal(s.counts().views.unassigned, 249);
  // A new conversation, and one unlisted given to me.
  s.applyEvent(msg('cv_new', 1));
  s.applyEvent({ type: 'event', conv: 'cv_41', seq: 4, event: 'status', status: 'assigned', from: 'queued', assignee: 'ag_1',
    conversation: { ...queued[40], seq: 4, status: 'assigned', assignee: 'ag_1' } });
  assert.deepEqual(s.counts().views, { mine: 1, unassigned: 249, team: 251, all: 251 });
  // Older ones fetched on request: counted once.
  s.addConversations(queued.slice(25, 50));
  assert.deepEqual(s.counts().views, { mine: 1, unassigned: 249, team: 251, all: 251 });
  // A gateway without counts: what the console holds.
  s.replaceConversations(listed, 250);
  assert.equal(s.counts().views.unassigned, 225);
});

test('a resolved conversation leaves the open list; a snapshot drops what is gone but keeps the one on screen', () => {
  const s = fresh();
  s.replaceConversations([conv('cv_1', 1), conv('cv_2', 1), conv('cv_3', 1)]);
  s.applyEvent({ type: 'event', conv: 'cv_1', seq: 2, event: 'status', status: 'resolved', from: 'queued',
    conversation: conv('cv_1', 2, { status: 'resolved' }) });
  assert.deepEqual(s.openIds().sort(), ['cv_2', 'cv_3']);
  s.select('cv_2');
  const added = s.replaceConversations([conv('cv_3', 1), conv('cv_5', 1)]);
  assert.deepEqual(added, ['cv_5']);
  assert.ok(s.conversations.has('cv_2'), 'the selected conversation stays');
  assert.ok(!s.conversations.has('cv_1'));
});

test('resume: loaded timelines after their last contiguous event, others after their state', () => {
  const s = fresh();
  s.replaceConversations([conv('cv_1', 7), conv('cv_2', 4)]);
  s.timeline('cv_1').requestedAfter = 0;
  s.applyHistory('cv_1', [msg('cv_1', 1), msg('cv_1', 2), msg('cv_1', 3)], 500);
  assert.equal(s.timeline('cv_1').loaded, true);
  assert.deepEqual(s.resume(), { cv_1: 3, cv_2: 4 });
  // A gap in a loaded timeline asks for history after the last contiguous seq.
  assert.equal(s.applyEvent(msg('cv_1', 6)).gapAfter, 3);
});

test('a short history page the gateway says has more (long messages) asks for the rest', () => {
  const s = fresh();
  s.replaceConversations([conv('cv_1', 9)]);
  s.timeline('cv_1').requestedAfter = 0;
  assert.equal(s.applyHistory('cv_1', [msg('cv_1', 1), msg('cv_1', 2)], 500, {}, true), 2);
  assert.equal(s.timeline('cv_1').loaded, false);
  assert.equal(s.applyHistory('cv_1', [msg('cv_1', 3)], 500, {}, false), null);
});

test('a loaded timeline whose conversation changed while the console was away is read again when opened', () => {
  const s = fresh();
  s.replaceConversations([conv('cv_1', 2, { status: 'assigned', assignee: 'ag_1' }), conv('cv_2', 1)]);
  s.select('cv_1');
  s.timeline('cv_1').requestedAfter = 0;
  s.applyHistory('cv_1', [msg('cv_1', 1), msg('cv_1', 2, { author: 'agent', author_id: 'ag_1', direction: 'out' })], 500);
  // Live events in order keep it loaded: resolved, then another one opened.
  s.applyEvent({ type: 'event', conv: 'cv_1', seq: 3, event: 'status', status: 'resolved', from: 'assigned',
    conversation: conv('cv_1', 3, { status: 'resolved' }) });
  assert.equal(s.timeline('cv_1').loaded, true);
  s.select('cv_2');
  assert.deepEqual(s.resume(), { cv_2: 1 }, 'resolved and not on screen: not resumed');
  // Away meanwhile: another agent reopened it and wrote; the welcome lists it open again.
  s.replaceConversations([conv('cv_1', 6, { status: 'assigned', assignee: 'ag_2' }), conv('cv_2', 1)]);
  const t = s.timeline('cv_1');
  assert.equal(t.loaded, false, 'its events 4-6 are missing: it is read again when opened');
  assert.equal(t.contiguousSeq(), 3, 'after what it holds');
  t.requestedAfter = 3;
  s.applyHistory('cv_1', [
    { type: 'event', conv: 'cv_1', seq: 4, event: 'status', status: 'queued', conversation: conv('cv_1', 4) },
    { type: 'event', conv: 'cv_1', seq: 5, event: 'status', status: 'assigned', conversation: conv('cv_1', 5, { status: 'assigned', assignee: 'ag_2' }) },
    msg('cv_1', 6, { author: 'agent', author_id: 'ag_2', direction: 'out', text: 'please send the serial number' }, { status: 'assigned', assignee: 'ag_2' }),
  ], 500);
  assert.equal(t.loaded, true);
  assert.equal(t.messages().filter((i) => i.kind === 'message').at(-1).message.text, 'please send the serial number');
});

test('a message the customer unsent replaces the version held live, and is no news for the agent', () => {
  const s = fresh();
  s.replaceConversations([conv('cv_1', 2, { status: 'assigned', assignee: 'ag_1' })]);
  s.applyEvent(msg('cv_1', 1, { text: 'my card is 6037', attachments: [{ kind: 'image', provider_ref: 'https://cdn/x' }] },
    { status: 'assigned', assignee: 'ag_1' }));
  const unsend = { type: 'event', conv: 'cv_1', seq: 2, event: 'message', edit: true,
    message: { id: 'cv_1:1', seq: 1, author: 'customer', direction: 'in', text: '', deleted_at: 5000 },
    conversation: conv('cv_1', 2, { status: 'assigned', assignee: 'ag_1' }) };
  assert.equal(s.applyEvent(unsend).customerMessage, false, 'no notification for an unsend');
  const items = s.timeline('cv_1').messages().filter((i) => i.kind === 'message');
  assert.equal(items.length, 1, 'one message, not two');
  // The view shows "unsent" for deleted_at, whatever the first version still holds.
  assert.deepEqual([items[0].seq, items[0].message.text, items[0].message.deleted_at], [1, '', 5000]);
  assert.equal(s.timeline('cv_1').lastMessage().deleted_at, 5000, 'the list row says it was unsent');
});

test('a row\'s preview stays the newest message when an older one gets a file copy, an edit or an unsend', () => {
  const s = fresh();
  s.replaceConversations([conv('cv_1', 7, { status: 'assigned', assignee: 'ag_1' })]);
  s.applyEvent(msg('cv_1', 5, { text: '', attachments: [{ kind: 'image', name: 'photo.jpg' }] }));
  s.applyEvent(msg('cv_1', 6, { author: 'bot', direction: 'out', text: 'Thanks, we got your photo' }));
  const copy = { type: 'event', conv: 'cv_1', seq: 7, event: 'message', edit: true, copies: true,
    message: { id: 'cv_1:5', seq: 5, author: 'customer', direction: 'in', text: '', attachments: [{ kind: 'image', name: 'photo.jpg', copy: 'x' }] },
    conversation: conv('cv_1', 7, { status: 'assigned', assignee: 'ag_1' }) };
  s.applyEvent(copy);
  assert.equal(s.timeline('cv_1').lastMessage().text, 'Thanks, we got your photo');
  assert.equal(previewText(lastMessageOf(s.conversations.get('cv_1'), s.timeline('cv_1'))), 'Thanks, we got your photo');
  // An edit of the newest message itself shows the edited text.
  s.applyEvent({ type: 'event', conv: 'cv_1', seq: 8, event: 'message', edit: true,
    message: { id: 'cv_1:6', seq: 6, author: 'bot', direction: 'out', text: 'Thanks, we got your photo!' },
    conversation: conv('cv_1', 8, { status: 'assigned', assignee: 'ag_1' }) });
  assert.equal(s.timeline('cv_1').lastMessage().text, 'Thanks, we got your photo!');
});

test('an admin keeps the newest resolved conversations only, besides the one on screen and its customer\'s others', () => {
  const s = new ConsoleState();
  s.setAgent({ ...me, role: 'admin' });
  const total = CLOSED_KEPT + 50;
  for (let i = 1; i <= total; i++) s.applyEvent(msg(`cv_${i}`, 1));
  s.select('cv_1');
  s.related.add('cv_2');
  for (let i = 1; i <= total; i++) {
    s.applyEvent({ type: 'event', conv: `cv_${i}`, seq: 2, event: 'status', status: 'resolved', from: 'queued',
      conversation: conv(`cv_${i}`, 2, { status: 'resolved' }) });
  }
  s.applyEvent(msg('cv_open', 1));
  assert.equal(s.conversations.size, CLOSED_KEPT + 1, 'the cap, and the open one');
  for (const id of ['cv_1', 'cv_2', `cv_${total}`, 'cv_open']) assert.ok(s.conversations.has(id), id);
  assert.ok(!s.conversations.has('cv_3') && !s.timelines.has('cv_3'), 'an early one left with its timeline');
  // One dropped and written to again is back, open, with what it says now.
  const back = s.applyEvent(msg('cv_3', 3, {}, { status: 'queued' }));
  assert.equal(back.appeared, true);
  assert.deepEqual(s.openIds().sort(), ['cv_3', 'cv_open']);
});

test('pending replies: acked, then replaced by the stored message with the same client_id', () => {
  const s = fresh();
  s.replaceConversations([conv('cv_1', 1)]);
  s.addPending('cv_1', 'c-1', 'hello');
  s.addPending('cv_1', 'c-2', 'again');
  s.markSent('c-1');
  assert.deepEqual(s.unsent().map((p) => p.client_id), ['c-1', 'c-2']);
  s.ack('c-1', 2, false);
  assert.deepEqual(s.unsent().map((p) => p.client_id), ['c-2'], 'an acked reply is not resent');
  assert.equal(s.pendingFor('cv_1').length, 2, 'bubble stays until the stored message arrives');
  s.applyEvent(msg('cv_1', 2, { author: 'agent', direction: 'out', client_id: 'c-1', status: 'pending' }));
  assert.deepEqual(s.pendingFor('cv_1').map((p) => p.client_id), ['c-2']);
  s.ack('c-2', 3, true); // a resend of something stored before: history shows it
  assert.equal(s.pending.size, 0);
});

test('pending replies and read marks survive a reload through storage', () => {
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
  const a = new ConsoleState({ storage });
  a.setAgent(me);
  a.replaceConversations([conv('cv_1', 1)]);
  a.addPending('cv_1', 'c-9', 'سلام');
  a.select('cv_1');
  const b = new ConsoleState({ storage });
  b.setAgent(me);
  assert.deepEqual(b.unsent().map((p) => p.text), ['سلام']);
  b.replaceConversations([conv('cv_1', 1)]);
  assert.equal(b.isUnread(b.conversations.get('cv_1')), false);
  b.applyEvent(msg('cv_1', 2));
  assert.equal(b.isUnread(b.conversations.get('cv_1')), true);
});

test('read marks from another device apply forwards only, and say they came from the server', () => {
  const s = fresh();
  s.replaceConversations([conv('cv_1', 3), conv('cv_2', 1)]);
  const seen = [];
  s.addEventListener('change', (e) => { if (e.detail.what === 'read') seen.push(e.detail); });
  s.applyReadMarks({ cv_1: 1003 });
  assert.equal(s.isUnread(s.conversations.get('cv_1')), false);
  assert.equal(s.isUnread(s.conversations.get('cv_2')), true);
  assert.deepEqual(seen, [{ what: 'read', remote: true }]);
  s.applyReadMarks({ cv_1: 1001 });  // an older mark: nothing changes, nothing is announced
  assert.equal(s.lastRead.get('cv_1'), 1003);
  assert.equal(seen.length, 1);
  // Reading here is announced with the mark, for the server.
  s.select('cv_2');
  assert.deepEqual(seen.at(-1), { what: 'read', conv: 'cv_2', at: 1001 });
  // After a reconnect: what was read here while offline, and the server lacks, is sent.
  assert.deepEqual(s.marksAhead({ cv_1: 1003 }), [['cv_2', 1001]]);
  assert.deepEqual(s.marksAhead({ cv_1: 1003, cv_2: 1001 }), []);
});

test('a later event with the same message id updates the message (delivery status)', () => {
  const s = fresh();
  s.applyEvent(msg('cv_1', 1, { id: 'cv_1:1', author: 'agent', direction: 'out', status: 'pending' }));
  s.applyEvent(msg('cv_1', 2, { id: 'cv_1:1', author: 'agent', direction: 'out', status: 'failed', failure_reason: 'outside the 24-hour window' }));
  const items = s.timeline('cv_1').messages();
  assert.equal(items.length, 1);
  assert.equal(items[0].message.status, 'failed');
  assert.equal(items[0].message.failure_reason, 'outside the 24-hour window');
});

test('delivery events (no seq) move a message mark forwards only; failed is final and keeps its reason', () => {
  const s = fresh();
  s.applyEvent(msg('cv_1', 1, { author: 'agent', direction: 'out', status: 'pending' }));
  const status = () => s.timeline('cv_1').messages()[0].message;
  const delivery = (st, extra = {}) => s.applyEvent({ type: 'event', event: 'delivery', conv: 'cv_1', message_seq: 1,
    message_id: 'cv_1:1', status: st, at: 1, ...extra });
  assert.equal(delivery('delivered').duplicate, false);
  assert.equal(status().status, 'delivered');
  assert.equal(delivery('sent').duplicate, true, 'a late "sent" does not undo "delivered"');
  assert.equal(status().status, 'delivered');
  delivery('failed', { reason: 'outside the 24-hour window' });
  delivery('read');
  assert.equal(status().status, 'failed');
  assert.equal(status().failure_reason, 'outside the 24-hour window');
  assert.deepEqual(s.resume(), { cv_1: 1 }, 'delivery marks are not counted as seqs');
  assert.equal(s.timeline('cv_1').events.size, 1);
  // A mark that arrives before its message (not loaded yet) applies once it is.
  delivery('read', { conv: 'cv_2' });
  s.applyEvent(msg('cv_2', 1, { author: 'agent', direction: 'out', status: 'pending' }));
  assert.equal(s.timeline('cv_2').messages()[0].message.status, 'read');
});

test('a web chat reply mailed to the customer (unread in the chat) says so, live and after a reload', () => {
  const s = fresh();
  s.applyEvent(msg('cv_1', 1, { author: 'agent', direction: 'out', status: 'pending' }));
  s.applyEvent({ type: 'event', event: 'delivery', conv: 'cv_1', message_seq: 1, status: 'sent', at: 1 });
  const shown = () => s.timeline('cv_1').messages()[0].message;
  assert.equal(shown().emailed_at, undefined);
  const mailed = { type: 'event', event: 'delivery', conv: 'cv_1', message_seq: 1, status: 'sent', at: 9, emailed_at: 9 };
  assert.equal(s.applyEvent(mailed).duplicate, false, 'the same status, now mailed: a change');
  assert.equal(shown().emailed_at, 9);
  assert.equal(shown().status, 'sent');
  assert.equal(s.applyEvent(mailed).duplicate, true);
  s.applyEvent({ type: 'event', event: 'delivery', conv: 'cv_1', message_seq: 1, status: 'read', at: 20 });
  assert.deepEqual([shown().status, shown().emailed_at], ['read', 9], 'read later in the chat: still mailed');

  const r = fresh();
  r.applyHistory('cv_1', [msg('cv_1', 1, { author: 'agent', direction: 'out', status: 'pending' })], 500,
    { 1: { status: 'sent', at: 5, emailed_at: 7, emailed_via: 'mail' } });
  assert.equal(r.timeline('cv_1').messages()[0].message.emailed_at, 7);
});

test('a pending reply the outbox retries shows why and when, live and after a reload, until the status moves', () => {
  const s = fresh();
  s.applyEvent(msg('cv_1', 1, { author: 'agent', direction: 'out', status: 'pending' }));
  const shown = () => s.timeline('cv_1').messages()[0].message;
  const delivery = (st, extra = {}) => s.applyEvent({ type: 'event', event: 'delivery', conv: 'cv_1', message_seq: 1,
    status: st, at: 1, ...extra });
  const first = { reason: 'http 500', attempt: 1, next_at: 5000 };
  assert.equal(delivery('pending', { retrying: first }).duplicate, false);
  assert.deepEqual([shown().status, shown().retrying], ['pending', first]);
  assert.equal(delivery('pending', { retrying: first }).duplicate, true, 'a repeat changes nothing');
  // The same attempt noted again (it waited out a rate limit, then failed): the newer note shows.
  const again = { reason: 'http 502', attempt: 1, next_at: 6000 };
  delivery('pending', { retrying: again });
  assert.deepEqual(shown().retrying, again);
  const second = { reason: 'transport: connect: Connection refused', attempt: 2, next_at: 9000 };
  delivery('pending', { retrying: second });
  assert.deepEqual(shown().retrying, second);
  // A reload's stored record older than the live event does not bring attempt 1 back.
  s.applyHistory('cv_1', [], 500, { 1: { status: 'pending', retrying: first } });
  assert.deepEqual(shown().retrying, second);
  delivery('sent');
  assert.deepEqual([shown().status, shown().retrying], ['sent', undefined], 'sent: the note goes');
  assert.equal(delivery('pending', { retrying: { ...second, attempt: 3 } }).duplicate, true, 'a late note is ignored');
  assert.equal(shown().retrying, undefined);

  // Opened after a reload: the stored record carries the note.
  const r = fresh();
  r.applyHistory('cv_1', [msg('cv_1', 1, { author: 'agent', direction: 'out', status: 'pending' })], 500,
    { 1: { status: 'pending', at: 5, retrying: second } });
  assert.deepEqual(r.timeline('cv_1').messages()[0].message.retrying, second);
  r.applyEvent({ type: 'event', event: 'delivery', conv: 'cv_1', message_seq: 1, status: 'failed', reason: 'gave up', at: 9 });
  assert.equal(r.timeline('cv_1').messages()[0].message.retrying, undefined, 'failed: the note goes');
});

test('a conversation given to me is an assignment; taking it myself or by my reply is not', () => {
  const s = fresh();
  s.replaceConversations([conv('cv_1', 1), conv('cv_2', 1)]);
  const given = { type: 'event', conv: 'cv_1', seq: 2, event: 'status', status: 'assigned', actor: 'system',
    conversation: conv('cv_1', 2, { status: 'assigned', assignee: 'ag_1' }) };
  assert.equal(s.applyEvent(given).assignedToMe, true);
  assert.equal(s.applyEvent(given).assignedToMe, false, 'a repeat is not a new assignment');
  const mine = msg('cv_2', 2, { author: 'agent', author_id: 'ag_1', direction: 'out' }, { status: 'assigned', assignee: 'ag_1' });
  assert.equal(s.applyEvent(mine).assignedToMe, false, 'my own reply took it');
  const toOther = { type: 'event', conv: 'cv_1', seq: 3, event: 'status', status: 'assigned', actor: 'ag_1',
    conversation: conv('cv_1', 3, { status: 'assigned', assignee: 'ag_9' }) };
  assert.equal(s.applyEvent(toOther).assignedToMe, false);
  assert.equal(s.counts().views.mine, 1);
});

test('labels come comma-joined in conversation states; a state without them has none', () => {
  const s = fresh();
  s.replaceConversations([conv('cv_1', 1, { labels: 'returns,vip' })]);
  assert.deepEqual(s.conversations.get('cv_1').labels, ['returns', 'vip']);
  s.applyEvent({ type: 'event', conv: 'cv_1', seq: 2, event: 'labels', labels: '', added: '', removed: 'returns,vip',
    conversation: conv('cv_1', 2) });
  assert.deepEqual(s.conversations.get('cv_1').labels, []);
  assert.equal(s.timeline('cv_1').messages().at(-1).kind, 'labels');
});

test('history: stored delivery marks apply to the replies they name (a reload shows "read", not "pending")', () => {
  const s = fresh();
  s.replaceConversations([conv('cv_1', 3)]);
  const reply = (seq) => msg('cv_1', seq, { author: 'agent', direction: 'out', status: 'pending', author_id: 'ag_2' });
  s.applyHistory('cv_1', [msg('cv_1', 1), reply(2), reply(3)], 500,
    { 2: { status: 'read', at: 5 }, 3: { status: 'failed', at: 6, reason: 'outside the 24-hour window' } });
  const shown = s.timeline('cv_1').messages().map((m) => [m.seq, m.message.status, m.message.failure_reason]);
  assert.deepEqual(shown, [[1, undefined, undefined], [2, 'read', undefined], [3, 'failed', 'outside the 24-hour window']]);
  // A late live mark never moves a reply backwards.
  assert.equal(s.applyEvent({ type: 'event', event: 'delivery', conv: 'cv_1', message_seq: 2, status: 'sent' }).duplicate, true);
});

test('a row\'s preview: the kept last message before any timeline (a reload), the timeline\'s once it holds the newest', () => {
  const s = fresh();
  const kept = { seq: 3, at: 1003, author: 'agent', text: 'A technician comes tomorrow' };
  s.replaceConversations([conv('cv_1', 3, { last_message: kept }), conv('cv_2', 1, { last_message: { seq: 1, at: 1001, author: 'customer', text: '', attachment: true } })]);
  assert.equal(lastMessageOf(s.conversations.get('cv_1'), s.timelines.get('cv_1')).text, 'A technician comes tomorrow');
  assert.equal(previewText(lastMessageOf(s.conversations.get('cv_2'), s.timelines.get('cv_2'))), '[attachment]');
  // Events carry no preview: a status change keeps the list's.
  s.applyEvent({ type: 'event', conv: 'cv_1', seq: 4, event: 'status', status: 'assigned', conversation: conv('cv_1', 4, { status: 'assigned' }) });
  assert.equal(lastMessageOf(s.conversations.get('cv_1'), s.timelines.get('cv_1')).text, 'A technician comes tomorrow');
  // An older message loaded into the timeline does not hide the newer kept one; a newer one replaces it.
  s.applyEvent(msg('cv_1', 1));
  assert.equal(lastMessageOf(s.conversations.get('cv_1'), s.timeline('cv_1')).text, 'A technician comes tomorrow');
  s.applyEvent(msg('cv_1', 5));
  assert.equal(lastMessageOf(s.conversations.get('cv_1'), s.timeline('cv_1')).text, 'm5');
  assert.equal(lastMessageOf(conv('cv_3', 1), null), null);
});

test('a customer\'s reaction shows on the message it names, the newest one counting; one to a message not loaded is an event of its own', () => {
  const s = fresh();
  const reply = msg('cv_9', 2, { author: 'agent', direction: 'out', text: 'Refund issued' });
  const reaction = (seq, messageSeq, emoji) => ({ type: 'event', conv: 'cv_9', seq, event: 'reaction', actor: 'customer',
    reaction: { message_seq: messageSeq, message_id: `cv_9:${messageSeq}`, emoji }, conversation: conv('cv_9', seq) });
  s.applyEvent(reply);
  s.applyEvent(reaction(3, 2, '👍'));
  const shown = () => s.timeline('cv_9').messages();
  assert.deepEqual(shown().map((it) => [it.kind, it.message?.reaction]), [['message', '👍']]);
  s.applyEvent(reaction(5, 2, '❤️'));
  s.applyEvent(reaction(4, 2, ''));  // arrives late: the order of the log counts
  assert.equal(shown()[0].message.reaction, '❤️');
  s.applyEvent(reaction(6, 2, ''));
  assert.equal(shown()[0].message.reaction, undefined, 'taken back');
  s.applyEvent(reaction(7, 1, '🙏'));  // message 1 is not loaded (an older page)
  assert.deepEqual(shown().map((it) => [it.kind, it.seq]), [['message', 2], ['reaction', 7]]);
});
