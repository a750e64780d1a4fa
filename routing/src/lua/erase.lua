-- Erasing a customer ("delete everything you hold about me") and removing
-- the texts of conversations resolved long ago (retention), with one scrub of
-- a conversation's log for both. Driven in bounded steps by
-- gateway/src/privacy.cpp. ARGV: prefix, op, now_ms, then per op:
--   begin    customer, actor, name keys ('name:…' lines: the file's and its
--            identities' names, as ingest indexed them in names:<language>:…),
--            the email channels' ids (space-separated)
--            -> { 'not_found' } | { 'merged', into } | { 'erasing', files... }
--               | { 'erased', conversations, messages }
--   step     customer, budget (log entries read)
--            -> { 'more' } | { 'erased', conversations, messages } | { 'not_erasing' }
--   pending  idle_ms, limit -> customers whose erasure started and has not
--            moved for idle_ms (its driver died): the sweep finishes them
--   lease    instance, lease_ms -> 1 when this instance runs the sweep
--   release  instance: the sweep's lease goes, if this instance holds it
--   clients_ttl  budget -> 1 when every conversation's client ids expire
--            (those written before they did get a week from now)
--   retain   edge_ms, budget -> { conversations scrubbed, entries read }:
--            conversations resolved or closed before edge_ms (rpt:events
--            from the cursor retention:cursor, then retention:due: words
--            that came after their scrub), their texts removed;
--            third: 1 when the budget ran out before what is due did
-- A file marked `erasing` whose driver died goes on where it stopped when
-- its erasure is asked for again, or when the sweep finds it idle in
-- erase:pending.
--
-- An erased file keeps its id, created_at (and merged_into for a file merged
-- into it) plus erased_at / erased_by: the console shows "erased customer",
-- the reports keep counting the person. Every identity, key, serial, name
-- index entry, suggestion and merge record goes: a message from the same
-- Telegram id, address or number opens a new file. Nothing is kept to
-- recognise them again (no suppression list): what would identify them is
-- what they asked us to delete, and with the identities gone nothing reaches
-- them (campaigns need an identity or a conversation's recipient, both gone).
-- The merges into the file (customer_merge.lua) are erased with it, their
-- records cut to who/when (an erased merge cannot be undone).
--
-- A scrubbed log entry keeps what reports fold (gateway/src/report_timeline.cpp):
-- times, direction, author kind and id, status changes, ratings, buttons; a
-- message or note loses its text (now ''), quoted original, attachments
-- (stored mail attachments and web chat uploads deleted), provider and
-- reply-to ids, the name and address of someone else who wrote in the
-- customer's thread, and gets
-- `erased` ('customer' or 'retention'); the conversation view loses
-- customer_name; a status note and a CSAT comment become ''. A stream cannot
-- be rewritten in place: the entries are copied, scrubbed, into <log>:scrub,
-- `budget` a call, which then replaces the log (RENAME). The conversation
-- hash keeps the scrub's progress (scrub_to, scrub_at, scrub_reason), so a
-- scrub goes on where it stopped; scrubbed_seq is how far the log is scrubbed.
local op, now = ARGV[2], tonumber(ARGV[3])

local function ck(id) return p .. 'cust:' .. id end
local function finished(status) return status == 'resolved' or status == 'closed' end
local LANGUAGES = { 'fa', 'ar', 'en' }

-- Our lookups of a provider's message id (edits, delivery statuses, mail threading).
local function forget_provider_id(channels, id)
  if type(id) ~= 'string' or id == '' then return end
  for _, ch in ipairs(channels) do
    redis.call('DEL', p .. 'provider_msg:' .. ch .. ':' .. id, p .. 'email_msgid:' .. ch .. ':' .. id)
  end
end

-- What the reports fold from a frame's conversation view
-- (gateway/src/report_timeline.cpp) and the widget reads from it (status,
-- channel, team). The view is most of a frame's bytes; the state consoles
-- take (the newest frame's, by seq) keeps the rest.
local VIEW_KEPT = { 'channel', 'customer_id', 'created_at', 'updated_at', 'team', 'status', 'assignee', 'sla_first_due',
  'sla_resolve_due' }

-- The conversation view of a frame: no customer name; an older frame's
-- (`slim`) only what VIEW_KEPT names.
local function scrub_view(view, slim)
  if not slim then
    view.customer_name = nil
    return view
  end
  local out = {}
  for _, k in ipairs(VIEW_KEPT) do out[k] = view[k] end
  return out
end

-- One log frame without what the customer or agents wrote. `c`: the
-- conversation (vkey, channels); `slim`: not its newest frame. Answers the
-- frame and whether it was a message (not an edit of one).
local function scrub_frame(frame, reason, c, slim)
  local f = cjson.decode(frame)
  if type(f.conversation) == 'table' then f.conversation = scrub_view(f.conversation, slim) end
  local m = f.message
  if type(m) == 'table' then
    forget_provider_id(c.channels, m.provider_message_id)
    drop_stored_copies(m.attachments)
    -- An outbound message's delivery record names the provider's id too.
    if m.direction == 'out' and not f.edit and m.seq then
      local raw = redis.call('HGET', c.vkey .. ':delivery', tostring(m.seq))
      local d = raw and cjson.decode(raw)
      -- A bounce's reason quotes the address ("550 <them@…>: user unknown"),
      -- and so may a pending reply's retry note ("450 <them@…>: mailbox busy").
      if d and (d.provider_message_id or d.reason or d.retrying) then
        forget_provider_id(c.channels, d.provider_message_id)
        d.provider_message_id, d.reason = nil, nil
        if d.retrying then d.retrying.reason = '' end
        redis.call('HSET', c.vkey .. ':delivery', tostring(m.seq), cjson.encode(d))
      end
    end
    m.text, m.erased = '', reason
    m.original_text, m.attachments, m.provider_message_id, m.reply_to = nil, nil, nil, nil
    -- Who else wrote in the customer's thread (ingest.lua's guest); an agent's name stays.
    if m.author == 'customer' then m.author_name, m.author_address = nil, nil end
  end
  if type(f.note) == 'table' then
    f.note.text, f.note.erased = '', reason
  elseif type(f.note) == 'string' and f.note ~= '' then
    f.note, f.erased = '', reason
  end
  if type(f.comment) == 'string' then f.comment, f.erased = '', reason end
  return cjson.encode(f), f.event == 'message' and type(m) == 'table' and not f.edit
end

-- The mail thread (email_store.cpp, kept a year for replies) without the
-- customer's subject and name. Its reply token and Message-IDs stay: a
-- customer answering an old mail still reaches the conversation, and our
-- answer still threads in their mail program (deleting it would start a new
-- conversation and thread for them).
local function scrub_mail_thread(vkey)
  local raw = redis.call('GET', vkey .. ':email')
  local ok, t = pcall(cjson.decode, raw or '')
  if not (ok and type(t) == 'table') or ((t.subject or '') == '' and (t.customer_name or '') == '') then return end
  t.subject, t.customer_name = '', ''
  -- cjson writes an empty list as {}; the reader wants a list or nothing.
  if type(t.references) == 'table' and #t.references == 0 then t.references = nil end
  redis.call('SET', vkey .. ':email', cjson.encode(t), 'KEEPTTL')
end

-- A scrub begun and not finished stops: its copy goes, the log stays.
local function scrub_abort(vkey)
  redis.call('DEL', vkey .. ':log:scrub')
  redis.call('HDEL', vkey, 'scrub_to', 'scrub_at', 'scrub_reason', 'scrub_counted')
end

-- Scrubs the conversation's log up to `through` (its seq, when absent) in
-- calls of at most `budget` entries. Entries logged after the scrub began
-- (a note after the erasure) are copied as they are. Answers done, entries
-- read, messages scrubbed (once each: a scrub an unsend started over,
-- unsend_message.lua, does not count again up to scrub_counted).
local function scrub_log(conv, reason, budget, through)
  local vkey = conv_key(conv)
  local log, copy = vkey .. ':log', vkey .. ':log:scrub'
  local h = redis.call('HMGET', vkey, 'seq', 'scrub_to', 'scrub_at', 'scrub_reason', 'scrubbed_seq', 'channel',
    'mail_channel', 'scrub_counted')
  local to, at, counted_to = tonumber(h[2] or ''), tonumber(h[3] or '0'), tonumber(h[8] or '0')
  -- One that stops short of `through` reaches it, unless its copy went past
  -- its end already; another kind of scrub (retention's, when the customer
  -- is erased) starts again.
  if to and h[4] == reason and through and to < through and at <= to then
    to = through
    redis.call('HSET', vkey, 'scrub_to', to)
  elseif to and (h[4] ~= reason or (through and to < through)) then
    scrub_abort(vkey)
    to = nil
  end
  if not to then
    to, at, counted_to = through or tonumber(h[1] or '0'), 0, 0
    redis.call('DEL', copy)
    redis.call('HSET', vkey, 'scrub_to', to, 'scrub_at', 0, 'scrub_reason', reason)
    redis.call('HDEL', vkey, 'scrub_counted')
  end
  local before = tonumber(h[5] or '0')  -- scrubbed by an earlier scrub: copied as it is
  local c = { vkey = vkey, channels = { h[6] } }
  if h[7] and h[7] ~= h[6] then c.channels[2] = h[7] end
  local messages = 0
  local done, read
  done, at, read = rewrite_log_step(log, copy, at, budget, function(seq, frame)
    if seq <= before or seq > to then return frame end
    local scrubbed, counted = scrub_frame(frame, reason, c, seq < to)
    if counted and seq > counted_to then messages = messages + 1 end
    return scrubbed
  end)
  if not done then
    redis.call('HSET', vkey, 'scrub_at', at)
    return false, read, messages
  end
  -- An unsend under way (unsend_message.lua) copied frames of the log this
  -- replaced: it starts over, from the scrubbed log.
  if redis.call('DEL', vkey .. ':unsend:log') == 1 then redis.call('HSET', vkey, 'unsend_pass_at', 0) end
  -- The CSAT comment, an email's subject and the list's preview of the
  -- newest message are the customer's words too.
  redis.call('HDEL', vkey, 'scrub_to', 'scrub_at', 'scrub_reason', 'scrub_counted', 'csat_comment', 'subject_key',
    'last_message')
  redis.call('HSET', vkey, 'scrubbed_seq', math.max(to, before))
  redis.call('DEL', vkey .. ':edits', vkey .. ':reactions', vkey .. ':copies')
  scrub_mail_thread(vkey)
  -- Search: the words go; the index reads only what is logged after `to`
  -- (search.lua skips a pass that read the log before this).
  search_forget('t', conv)
  redis.call('HSET', p .. 'search:seq', conv, to)
  if log_ends_by(conv, to) then
    redis.call('ZREM', p .. 'search:dirty', conv)
    redis.call('ZREM', p .. 'search:backlog', conv)
  else
    redis.call('ZADD', p .. 'search:dirty', 'NX', now, conv)
  end
  return true, read, messages
end

-- The conversation is over for good: out of routing, queues, timers and the
-- web chat mail fallback, closed with a live event (reason 'erased', which
-- the reports skip: they count it as it was).
local function close_erased(conv, actor)
  local vkey = conv_key(conv)
  local h = redis.call('HMGET', vkey, 'status', 'assignee', 'team')
  if not h[1] or h[1] == 'closed' then return end
  local assignee = h[2] or ''
  if not finished(h[1]) then
    leave_routing(conv, assignee, h[3] or '', now)
    stop_awaiting_routing(conv)
    redis.call('ZREM', p .. 'timers:bot_idle', conv)
  end
  change_status(conv, 'closed', actor, now, { reason = 'erased' })
  if assignee ~= '' and not finished(h[1]) then drain_agent(assignee, now, 10) end
end

-- The outbox entries of the conversation not sent yet (queue_outbound keeps
-- them in their chat's order list): not sent after the erasure. Deleted and
-- acknowledged in the senders' group (routing/src/outbox.cpp), so a gateway
-- holding one finds it lost; one already on its way goes.
local OUTBOX_GROUP = 'senders'
local function drop_unsent(conv, channel, recipient)
  if not channel then return end
  local key = p .. 'outbox:' .. channel
  local order = key .. ':chat:' .. ((recipient and recipient ~= '') and recipient or conv)
  for _, id in ipairs(redis.call('LRANGE', order, 0, 99)) do
    local e = redis.call('XRANGE', key, id, id)[1]
    local ok, m = pcall(cjson.decode, e and e[2][2] or '')
    if not e or (ok and type(m) == 'table' and m.conversation_id == conv) then
      redis.call('XACK', key, OUTBOX_GROUP, id)
      redis.call('XDEL', key, id)
      redis.call('HDEL', key .. ':attempts', id)
      redis.call('LREM', order, 1, id)
    end
  end
end

-- What a conversation holds about where the customer is: its recipient,
-- mail thread and address, a pending mail of unread web chat replies, replies
-- not sent yet.
local function unlink_conversation(conv)
  local vkey = conv_key(conv)
  local h = redis.call('HMGET', vkey, 'channel', 'mail_channel', 'recipient', 'mail_to')
  drop_unsent(conv, h[1], h[3])
  drop_unsent(conv, h[2], h[4])
  local thread = redis.call('GET', vkey .. ':email')
  local ok, t = pcall(cjson.decode, thread or '')
  if ok and type(t) == 'table' and type(t.reply_token) == 'string' and t.reply_token ~= '' then
    for _, ch in ipairs({ h[1] or '', h[2] or '' }) do redis.call('DEL', p .. 'email_token:' .. ch .. ':' .. t.reply_token) end
  end
  redis.call('DEL', vkey .. ':email')
  redis.call('HDEL', vkey, 'recipient', 'mail_to', 'replies_elsewhere')
  redis.call('HSET', vkey, 'erased_at', now)
  redis.call('ZREM', p .. 'webchat:mail_due', conv)
  redis.call('HDEL', p .. 'webchat:mail_since', conv)
  return h[1]
end

-- The address typed or proved in a web chat and the code mailed to prove it
-- (webchat_verify.lua keeps it on the visitor; verify_token: a link mailed
-- before codes, kept 24 h), and the files they uploaded (webchat_uploads.lua),
-- sent in a message or not.
local function forget_visitor(id, addresses)
  local vkey = p .. 'webchat:visitor:' .. id
  local v = redis.call('HMGET', vkey, 'key_email', 'verified_email', 'verify_token')
  if v[1] then addresses[v[1]] = true end
  if v[2] then addresses[v[2]] = true end
  if v[3] then redis.call('DEL', p .. 'webchat:verify:' .. v[3]) end
  redis.call('DEL', vkey, p .. 'webchat:verify_code:' .. id)
  local uploads = p .. 'webchat:uploads:' .. id
  for _, upload in ipairs(redis.call('SMEMBERS', uploads)) do drop_attachment(upload) end
  redis.call('DEL', uploads)
end

-- Everything a file holds but its id, creation time and merge link. Answers
-- the files merged into it (not undone): they are erased too. Adds the
-- channels it wrote on and its email addresses (lower case) to the sets given.
local function wipe_file(f, actor, name_keys, channels, addresses)
  local key = ck(f)
  local ids = redis.call('HGETALL', key .. ':identities')
  for i = 1, #ids, 2 do
    local ident = p .. 'ident:' .. ids[i]
    if redis.call('GET', ident) == f then redis.call('DEL', ident) end
    local ch = string.match(ids[i], '^([^:]+):')
    if ch then channels[ch] = true end
    local ok, who = pcall(cjson.decode, ids[i + 1])
    if ok and type(who) == 'table' and who.kind == 'webchat' then forget_visitor(ids[i], addresses) end
    if ok and type(who) == 'table' and who.kind == 'email' and type(who.external_id) == 'string' then
      addresses[string.lower(who.external_id)] = true
    end
  end
  for _, k in ipairs(redis.call('SMEMBERS', key .. ':keys')) do
    if redis.call('GET', p .. 'key:' .. k) == f then redis.call('DEL', p .. 'key:' .. k) end
    local addr = string.match(k, '^email:(.+)$')
    if addr then addresses[string.lower(addr)] = true end
  end
  for _, item in ipairs(redis.call('HVALS', key .. ':purchases')) do
    local ok, x = pcall(cjson.decode, item)
    local serial = ok and type(x) == 'table' and x.serial
    if type(serial) == 'string' and serial ~= '' and redis.call('GET', p .. 'serial:' .. serial) == f then
      redis.call('DEL', p .. 'serial:' .. serial)
    end
  end
  -- The other side of a suggestion names this file's address, number or name.
  for _, other in ipairs(redis.call('HKEYS', key .. ':suggest')) do redis.call('HDEL', ck(other) .. ':suggest', f) end
  for _, nk in ipairs(name_keys) do
    for _, lang in ipairs(LANGUAGES) do redis.call('SREM', p .. 'names:' .. lang .. ':' .. string.sub(nk, 6), f) end
  end
  local merged = {}
  for _, mid in ipairs(redis.call('LRANGE', key .. ':merges', 0, -1)) do
    local raw = redis.call('GET', p .. 'merge:' .. mid)
    local ok, m = pcall(cjson.decode, raw or '')
    if ok and type(m) == 'table' then
      if not m.undone_at and m.from then merged[#merged + 1] = m.from end
      redis.call('SET', p .. 'merge:' .. mid, cjson.encode({ id = m.id, into = m.into, from = m.from, at = m.at, by = m.by,
        undone_at = m.undone_at, erased_at = now }))
    end
  end
  local keep = redis.call('HMGET', key, 'created_at', 'merged_into', 'merged_at', 'merge_id')
  redis.call('DEL', key, key .. ':identities', key .. ':keys', key .. ':purchases', key .. ':suggest', key .. ':suggest_no')
  redis.call('HSET', key, 'id', f, 'erased_at', now, 'erased_by', actor)
  local kept = { 'created_at', 'merged_into', 'merged_at', 'merge_id' }
  for i, name in ipairs(kept) do
    if keep[i] then redis.call('HSET', key, name, keep[i]) end
  end
  search_forget('c', f)
  redis.call('ZREM', p .. 'search:dirty:cust', f)
  return merged
end

-- The keys of a file by channel: where it writes from, what it owes.
local function forget_channels(f, channels)
  for ch in pairs(channels) do
    redis.call('DEL', ck(f) .. ':open:' .. ch, p .. 'csat:pending:' .. f .. ':' .. ch, p .. 'csat:comment:' .. f .. ':' .. ch)
  end
end

-- On the email channels (`mail_channels`): noted automatic mail from their
-- addresses (an out-of-office, a bounce's sender; email_automatic:<channel>,
-- capped near 1,000 entries: read whole) and mail to them not sent yet (a
-- web chat's proving code); the count of proving codes mailed to them
-- (webchat_verify.lua).
local function forget_addresses(addresses, mail_channels)
  if next(addresses) == nil then return end
  for _, ch in ipairs(mail_channels) do
    local stream = p .. 'email_automatic:' .. ch
    for _, e in ipairs(redis.call('XRANGE', stream, '-', '+', 'COUNT', 2000)) do
      for i = 1, #e[2], 2 do
        if e[2][i] == 'from' and addresses[string.lower(e[2][i + 1])] then redis.call('XDEL', stream, e[1]) end
      end
    end
    for addr in pairs(addresses) do drop_unsent('', ch, addr) end
  end
  for addr in pairs(addresses) do
    redis.call('DEL', p .. 'webchat:verify_count:' .. addr, p .. 'webchat:verify_wrong:' .. addr)
  end
end

local function erased_counts(key)
  local h = redis.call('HMGET', key, 'erased_conversations', 'erased_messages')
  return { 'erased', h[1] or '0', h[2] or '0' }
end

if op == 'begin' then
  local id, actor = ARGV[4], ARGV[5]
  local key = ck(id)
  if redis.call('EXISTS', key) == 0 then return { 'not_found' } end
  local h = redis.call('HMGET', key, 'erased_at', 'erasing', 'merged_into')
  if h[3] then return { 'merged', h[3] } end
  if h[2] then return { 'erasing' } end
  if h[1] then return erased_counts(key) end
  local name_keys = {}
  for k in string.gmatch(ARGV[6] or '', '[^\n]+') do name_keys[#name_keys + 1] = k end
  -- The file, and the files merged into it (and into those), at most 100.
  local files, seen, channels, addresses = { id }, { [id] = true }, {}, {}
  local i = 1
  while i <= #files do
    for _, m in ipairs(wipe_file(files[i], actor, name_keys, channels, addresses)) do
      if not seen[m] and #files < 100 then seen[m] = true; files[#files + 1] = m end
    end
    i = i + 1
  end
  local convs = redis.call('LRANGE', key .. ':conversations', 0, -1)
  for _, conv in ipairs(convs) do
    local ch = unlink_conversation(conv)
    if ch then channels[ch] = true end
    -- Open ones first, in this call: no message may join them after this.
    local status = redis.call('HGET', conv_key(conv), 'status')
    if status and not finished(status) then close_erased(conv, actor) end
  end
  for _, f in ipairs(files) do forget_channels(f, channels) end
  local mail_channels = {}
  for ch in string.gmatch(ARGV[7] or '', '%S+') do mail_channels[#mail_channels + 1] = ch end
  forget_addresses(addresses, mail_channels)
  redis.call('HSET', key, 'erasing', '1', 'erase_at', 0, 'erased_conversations', #convs, 'erased_messages', 0,
    'erased_files', #files)
  redis.call('ZADD', p .. 'erase:pending', now, id)
  local out = { 'erasing' }
  for _, f in ipairs(files) do out[#out + 1] = f end
  return out
end

if op == 'step' then
  local id, budget = ARGV[4], tonumber(ARGV[5])
  local key = ck(id)
  local h = redis.call('HMGET', key, 'erasing', 'erase_at', 'erased_by')
  if not h[1] then
    if redis.call('HEXISTS', key, 'erased_at') == 1 then return erased_counts(key) end
    return { 'not_erasing' }
  end
  local at, actor = tonumber(h[2] or '0'), h[3] or 'system'
  redis.call('ZADD', p .. 'erase:pending', now, id)
  while budget > 0 do
    local conv = redis.call('LINDEX', key .. ':conversations', at)
    if not conv then break end
    close_erased(conv, actor)
    local seq = tonumber(redis.call('HGET', conv_key(conv), 'seq') or '0')
    local done, read, messages = scrub_log(conv, 'customer', budget, seq)
    budget = budget - math.max(read, 1)
    if messages > 0 then redis.call('HINCRBY', key, 'erased_messages', messages) end
    if not done then return { 'more' } end
    at = at + 1
    redis.call('HSET', key, 'erase_at', at)
  end
  if redis.call('LINDEX', key .. ':conversations', at) then return { 'more' } end
  redis.call('HDEL', key, 'erasing', 'erase_at')
  redis.call('ZREM', p .. 'erase:pending', id)
  local counts = erased_counts(key)
  local e = redis.call('HMGET', key, 'erased_at', 'erased_files')
  -- Who erased which file when, and how much: no personal data.
  redis.call('XADD', p .. 'audit:erasures', 'MAXLEN', '~', 10000, '*', 'e', cjson.encode({ customer = id, by = actor,
    at = tonumber(e[1]), done_at = now, conversations = tonumber(counts[2]), messages = tonumber(counts[3]),
    files = tonumber(e[2] or '1') }))
  return counts
end

if op == 'pending' then
  return redis.call('ZRANGEBYSCORE', p .. 'erase:pending', '-inf', now - tonumber(ARGV[4]), 'LIMIT', 0, tonumber(ARGV[5]))
end

if op == 'lease' then return hold_lease(p .. 'retention:lease', ARGV[4], ARGV[5]) and 1 or 0 end

if op == 'release' then
  release_lease(p .. 'retention:lease', ARGV[4])
  return 0
end

-- conv:<id>:clients written before it expired (remember_client_id,
-- prelude.lua, sets the week on every write since) gets the week from now:
-- one pass over the conversation numbers (cv_1 up to next:conversation),
-- `budget` of them a call, where it is kept in retention:clients_ttl
-- ('done' after the pass). Answers 1 once done.
local function expire_old_client_ids(budget)
  local at_key = p .. 'retention:clients_ttl'
  local at = redis.call('GET', at_key)
  if at == 'done' then return 1 end
  at = tonumber(at or '0')
  -- Only the conversations there were when the pass began: the ones opened
  -- since set their expiry themselves (on a new database: none at all).
  local until_key = at_key .. ':until'
  redis.call('SET', until_key, redis.call('GET', p .. 'next:conversation') or '0', 'NX')
  local last = tonumber(redis.call('GET', until_key))
  local to = math.min(last, at + budget)
  for n = at + 1, to do redis.call('EXPIRE', conv_key('cv_' .. n) .. ':clients', client_ids_ttl_s, 'NX') end
  if to >= last then
    redis.call('SET', at_key, 'done')
    redis.call('DEL', until_key)
    return 1
  end
  redis.call('SET', at_key, to)
  return 0
end

if op == 'clients_ttl' then return expire_old_client_ids(tonumber(ARGV[4])) end

-- Retention of one conversation whose resolve (or close, or rating) is
-- before `edge`: its texts go when it is still resolved or closed since then
-- and has entries not scrubbed. Answers done (false: the scrub goes on in
-- the next call), entries read, whether it was scrubbed.
local function retain_one(conv, edge, budget)
  local vkey = conv_key(conv)
  local h = redis.call('HMGET', vkey, 'status', 'resolved_at', 'seq', 'scrubbed_seq', 'scrub_to', 'scrub_reason')
  local old = finished(h[1]) and (tonumber(h[2] or '') or edge + 1) <= edge
  local mine = not h[5] or h[6] == 'retention'  -- an erasure's scrub is the erasure's to finish
  if h[5] and mine and not old then scrub_abort(vkey) end  -- reopened meanwhile
  if not (old and mine and (h[5] or tonumber(h[4] or '0') < tonumber(h[3] or '0'))) then return true, 0, false end
  local done, read = scrub_log(conv, 'retention', budget, nil)
  return done, read, done
end

if op == 'retain' then
  local edge, budget = tonumber(ARGV[4]), tonumber(ARGV[5])
  local cursor = p .. 'retention:cursor'
  local cur = redis.call('HMGET', cursor, 'score', 'member')
  local score, member = tonumber(cur[1] or '0'), cur[2] or ''
  local scrubbed, read_total, offset, stop = 0, 0, 0, false
  -- Resolves and closes (and ratings) by when they happened (emit,
  -- prelude.lua), from the cursor on; each one looked at counts.
  while not stop and budget > 0 do
    local page = redis.call('ZRANGEBYSCORE', p .. 'rpt:events', score, edge, 'WITHSCORES', 'LIMIT', offset, 100)
    local moved = false
    for k = 1, #page, 2 do
      local m, s = page[k], tonumber(page[k + 1])
      if s > score or m > member then
        local done, read, did = retain_one(string.match(m, '^([^|]+)'), edge, budget)
        budget, read_total = budget - math.max(read, 1), read_total + read
        if did then scrubbed = scrubbed + 1 end
        if not done then stop = true; break end  -- the cursor stays before it: the next call goes on there
        score, member, moved = s, m, true
        if budget <= 0 then stop = true; break end
      end
    end
    if #page < 200 then stop = true end
    -- A full page the cursor had passed (many in one millisecond): the next page.
    offset = moved and 0 or offset + 100
  end
  redis.call('HSET', cursor, 'score', score, 'member', member)
  -- Then the conversations that got words after their scrub (emit_json),
  -- a period after the newest.
  local due = p .. 'retention:due'
  while budget > 0 do
    local conv = redis.call('ZRANGEBYSCORE', due, '-inf', edge, 'LIMIT', 0, 1)[1]
    if not conv then break end
    local done, read, did = retain_one(conv, edge, budget)
    budget, read_total = budget - math.max(read, 1), read_total + read
    if did then scrubbed = scrubbed + 1 end
    if not done then break end  -- goes on next call
    redis.call('ZREM', due, conv)
  end
  -- Third: 1 when the budget ran out (more may be due now).
  return { scrubbed, read_total, budget <= 0 and 1 or 0 }
end

return { 'unknown_op', op }
