-- Inbound customer messages, each atomically: dedup, customer, conversation,
-- append, publish. This runs for every message a customer sends, so it stays
-- lean: the message JSON from the caller is completed as text (decoded only
-- for a message its customer unsent before it came),
-- and one HMGET reads the conversation's state.
-- Group commit: one call carries a batch of messages (routing/src/
-- ingest_batcher.cpp). ARGV: prefix, the number of messages, then for each
-- message the count of its arguments and the arguments A[2..]:
-- channel, kind, external_id, display_name, dedup_key,
-- dedup_ttl_s, now_ms, message_json (an object with at least one member),
-- team, bot_enabled, language, recipient, thread_conv, thread_any_sender,
-- alt_external_id, provider_message_id, identity keys, subject_key,
-- wrote_at_ms, the text's beginning and whether the message has attachments
-- (the list's preview, so message_json need not be decoded here): '0', '1',
-- or 'copy' when Pasokh keeps copies of them (Messenger, Instagram: queued in
-- meta_media:due with the message, meta_media.lua), planned ('1':
-- the caller's routing decision follows), the language it assumed, then the
-- decision (decision_args in routing_lib).
-- wrote_at_ms: when the customer wrote (the provider's time, never after
-- now_ms): last_customer_message_at, where the reply window starts. A late
-- redelivery of an older message never moves it back.
-- thread_conv: a conversation the message answers (email threading),
-- continued while it is open on this channel (or its replies were mailed
-- from this channel) and the sender is its customer,
-- or anyone when thread_any_sender is '1' (the caller verified a secret reply
-- token). alt_external_id: a second id of the same person (WhatsApp user_id
-- beside the wa_id); either id finds the customer. keys (A[18]): the
-- identity's verified keys ('email:…', 'phone:…') and a weak 'name:…', one a
-- line (routing/src/customer_keys.cpp); read only when the identity is new.
-- subject_key (A[19]): '' on every channel but email: a message joins the
-- customer's open conversation whatever it says. Email passes
-- 'subject:<normalized subject>': a mail without thread joins the open
-- conversation only when that one was opened under the same key (the
-- customer writing again about the same case without pressing reply) and
-- its recipient is this mail's.

-- Ids of new customers and conversations: the first of a call is an INCR, the
-- rest are counted here and written back once at the end (the call is
-- atomic): every write costs its AOF record too.
local counters = {}
local function next_id(name)
  local c = counters[name]
  if c then
    c.value, c.more = c.value + 1, true
  else
    c = { key = p .. 'next:' .. name }
    c.value = redis.call('INCR', c.key)
    counters[name] = c
  end
  return c.value
end

-- A rating or a comment the customer owes on this channel (aftersales.lua).
local function owes_csat(cust, channel)
  return redis.call('EXISTS', p .. 'csat:pending:' .. cust .. ':' .. channel,
    p .. 'csat:comment:' .. cust .. ':' .. channel) > 0
end

-- A conversation the bot resolved because the customer left it (tick.lua,
-- bot_idle), written to again within the reopen window: it goes on with the
-- bot, as it was, rather than to a person. `v`: its state, updated here.
local function reopen_with_bot(conv, v, open_key, now_text)
  local now = tonumber(now_text)  -- the event's `at` is a number
  customer_reopens(conv, v.team, open_key, now)
  v.seq = tostring(change_status(conv, 'bot', 'customer', now, { reason = 'reopened_by_customer' }))
  v.status, v.updated_at = 'bot', now_text
end

-- Whether a message answering `thread_conv` (email threading) goes on in it:
-- while it is open on this channel, from its customer (or anyone, when
-- `any_sender`: the caller verified a reply token). Or a web chat
-- conversation whose unread replies were mailed from this channel
-- (webchat_mail_fallback.lua): from its customer or the address mailed, and
-- also while resolved within its reopen window (its open pointer is the chat's).
-- Second answer: the sender is someone else (a colleague in Cc answering
-- through the reply token).
local function continues_thread(thread_conv, channel, cust, sender, any_sender)
  local t = redis.call('HMGET', conv_key(thread_conv), 'channel', 'status', 'customer_id', 'mail_channel', 'mail_to')
  if not t[1] or t[2] == 'closed' then return false end
  local other = t[3] ~= cust and t[5] ~= string.lower(sender)
  if t[1] == channel then return t[2] ~= 'resolved' and (any_sender or not other), other end
  if t[4] ~= channel or not (any_sender or not other) then return false end
  return t[2] ~= 'resolved' or redis.call('GET', p .. 'cust:' .. t[3] .. ':open:' .. t[1]) == thread_conv, other
end

-- A subject key stored before keys folded Arabic ي ى ك into Persian ی ک
-- (normalized_subject, threading.cpp), folded the same to compare.
local function persian_letters(key)
  return (string.gsub(string.gsub(key, '\217[\137\138]', '\219\140'), '\217\131', '\218\169'))
end

-- A mail's key is 'from:<sender's hash>:<Message-ID>'; before, it was the
-- Message-ID alone. A redelivery of a mail stored before that upgrade is a
-- duplicate when the customer it was stored for is this sender (dedup_ttl_s
-- after the upgrade, drop this).
local function legacy_mail_dedup(channel, kind, dedup_key, ext)
  if kind ~= 'email' then return nil end
  local message_id = string.match(dedup_key, '^from:%x+:(.+)$')
  if not message_id then return nil end
  local seen = redis.call('GET', p .. 'dedup:' .. channel .. ':' .. message_id)
  if not seen then return nil end
  local cust = string.match(seen, '|([^|]*)$')
  return cust and cust == redis.call('GET', p .. 'ident:' .. channel .. ':' .. ext) and seen or nil
end

local function ingest_one(A)
  local channel, kind, ext, display_name = A[2], A[3], A[4], A[5]
  local dedup_key, dedup_ttl, now, message_json = A[6], A[7], A[8], A[9]
  local team, bot_enabled, language, recipient = A[10], A[11] == '1', A[12], A[13]
  local thread_conv, thread_any_sender, alt, provider_id = A[14], A[15] == '1', A[16], A[17]
  local subject_key, wrote_at = A[19], A[20]
  local preview_text, attachments = A[21], A[22] ~= '0'

  local dkey, seen = dedup_of(channel, dedup_key)
  if dkey then
    seen = seen or legacy_mail_dedup(channel, kind, dedup_key, ext)
    -- "conv|seq|customer"; third: its follow-up is still due (the answer of
    -- the first attempt was lost: the retry runs it, gateway/src/followup.cpp).
    if seen then
      local due = redis.call('ZSCORE', p .. 'followup:due', string.match(seen, '^(.*)|'))
      return { 'duplicate', seen, due and '1' or '0' }
    end
  end

  -- Unsent before it came (unsend_message.lua left the marker): stored
  -- without its text, files or button, with deleted_at, as an unsend
  -- leaves a stored one. Only Meta sends unsends: no other channel pays the GET.
  local unsent_at
  if provider_id ~= '' and (kind == 'instagram' or kind == 'messenger') then
    local marker = unsent_marker(channel, provider_id)
    unsent_at = redis.call('GETDEL', marker)
    if unsent_at then
      local m = cjson.decode(message_json)
      take_back(m, tonumber(unsent_at))
      message_json, preview_text, attachments = cjson.encode(m), '', false
    end
  end

  -- The customer, by this channel's id of the person (or their second id).
  local ident_prefix = p .. 'ident:' .. channel .. ':'
  local by_ext = redis.call('GET', ident_prefix .. ext)
  local cust = by_ext
  local alt_new = false
  if alt ~= '' and alt ~= ext then
    local by_alt = redis.call('GET', ident_prefix .. alt)
    alt_new = not by_alt
    cust = cust or by_alt
  end
  -- A new identity joins the customer a verified key names (the sender of a
  -- mail, a WhatsApp number, the email a web chat visitor proved by the link
  -- mailed to it), unless that customer already has an identity on this
  -- channel: two people never share a conversation (an agent merges them if
  -- they are one). An email a visitor only typed into a form links nothing:
  -- anyone can type anyone's address (the new file gets it, see below).
  local keys, name_key, typed
  if not cust then
    keys = {}
    for k in string.gmatch(A[18] or '', '[^\n]+') do
      if string.sub(k, 1, 5) == 'name:' then name_key = string.sub(k, 6) else keys[#keys + 1] = k end
    end
    if kind == 'webchat' then
      typed = redis.call('HMGET', p .. 'webchat:visitor:' .. channel .. ':' .. ext, 'email', 'key_email', 'verified_email')
      -- A proved address is the same person, on another device too.
      if typed[3] and typed[3] ~= '' then
        keys[#keys + 1] = 'email:' .. typed[3]
        cust = redis.call('GET', p .. 'key:email:' .. typed[3]) or nil
      end
    end
    for _, k in ipairs(cust and {} or keys) do
      local holder = redis.call('GET', p .. 'key:' .. k)
      if holder and not has_identity_on(holder, channel) then cust = holder; break end
    end
  end
  -- Someone with no file answering in a customer's thread (a colleague in
  -- Cc): a guest there (below), who gets no file of their own.
  local guest_of
  if not cust and thread_conv ~= '' then
    local continues, other = continues_thread(thread_conv, channel, '', ext, thread_any_sender)
    if continues and other then guest_of = redis.call('HGET', conv_key(thread_conv), 'customer_id') end
  end
  local function link(id)
    redis.call('SET', ident_prefix .. id, cust)
    redis.call('HSET', p .. 'cust:' .. cust .. ':identities', channel .. ':' .. id,
      cjson.encode({ channel = channel, kind = kind, external_id = id, display_name = display_name }))
  end
  local ckey
  local cust_name = display_name
  -- The file's VIP flag and language (routing below); a new file: not VIP,
  -- in the message's language.
  local cust_vip, cust_language, cust_new = '0', language, false
  local file_changed = false  -- a known file got a name or an id here: search reads it again
  if guest_of then
    cust, ckey = guest_of, p .. 'cust:' .. guest_of
    local c = redis.call('HMGET', ckey, 'vip', 'language')
    cust_vip, cust_language, alt_new, keys = c[1] or '0', c[2] or '', false, nil
  elseif cust then
    ckey = p .. 'cust:' .. cust
    local c = redis.call('HMGET', ckey, 'name', 'vip', 'language')
    local known = c[1] or ''
    cust_vip, cust_language = c[2] or '0', c[3] or ''
    if known == '' and display_name ~= '' then
      redis.call('HSET', ckey, 'last_seen_at', now, 'name', display_name)
      file_changed = true
    else
      redis.call('HSET', ckey, 'last_seen_at', now)
      cust_name = known
    end
    if not by_ext then  -- found by the second id or a key: link this id too
      link(ext)
      file_changed = true
    end
  else
    cust_new = true
    cust = 'cu_' .. next_id('customer')
    ckey = p .. 'cust:' .. cust
    redis.call('HSET', ckey, 'id', cust, 'name', display_name, 'language', language, 'created_at', now,
      'vip', '0', 'last_seen_at', now)
    link(ext)
    -- Weak evidence: the same two-word name in the same language on another channel.
    if name_key and language ~= '' then
      local names = p .. 'names:' .. language .. ':' .. name_key
      for _, other in ipairs(redis.call('SRANDMEMBER', names, 10)) do
        if not has_identity_on(other, channel) then suggest_merge(cust, other, 'same_name', display_name, now) end
      end
      redis.call('SADD', names, cust)
    end
    -- The email a visitor typed: the fallback mails replies there once it is
    -- proved; a file that holds it is only a suggestion, marked unproved
    -- (typed_email: anyone can type anyone's address; webchat_verify.cpp
    -- mails the code that proves it).
    if typed and typed[2] and typed[2] ~= '' then
      redis.call('HSET', ckey, 'email', typed[1])
      suggest_merge(cust, redis.call('GET', p .. 'key:email:' .. typed[2]), 'typed_email', typed[2], now)
    end
  end
  if alt_new then
    link(alt)
    file_changed = true
  end
  if keys then
    for _, k in ipairs(keys) do
      if index_customer_key(cust, k, now) then file_changed = true end
    end
  end
  -- A new file is indexed with its first conversation; a known one whose
  -- name, ids or keys changed here is read again.
  if file_changed and not cust_new then search_customer_changed(cust, now) end

  -- The conversation: the thread the message answers, else the open one on this
  -- channel, else a new one.
  local open_key = ckey .. ':open:' .. channel
  local conv = false
  -- Someone else in the customer's thread (`guest`): their message is kept,
  -- under their name, and changes nothing of the conversation's customer (its
  -- name, where replies go).
  local guest = false
  if guest_of then
    conv, guest = thread_conv, true
  elseif thread_conv ~= '' then
    local continues, other = continues_thread(thread_conv, channel, cust, ext, thread_any_sender)
    if continues then conv, guest = thread_conv, other end
  end
  -- A new file has no open conversation.
  -- A mail without thread joins it only about the same case (its subject) and
  -- answered at the same address: a mail never changes where the replies of
  -- an open conversation go (another person's address in Reply-To).
  if not conv and not cust_new then
    conv = redis.call('GET', open_key)
    if conv and subject_key ~= '' and conv ~= thread_conv then
      local open = redis.call('HMGET', conv_key(conv), 'subject_key', 'recipient')
      if persian_letters(open[1] or '') ~= subject_key or open[2] ~= recipient then conv = false end
    end
  end
  -- Routed here: a new queued conversation the caller decided for (A[23]
  -- '1'), of a customer who is not VIP and speaks the language it assumed
  -- (A[24]); for anyone else the caller decides again (route.lua).
  -- Not when the customer owes a CSAT rating or comment (a new file owes
  -- none): this message may be it, and the caller looks closer (aftersales)
  -- before anything routes it.
  local route_here = false
  local csat_open = false
  -- seq as text: a number would be formatted again at every use.
  local created, seq, v = '0', '1', nil
  local was_resolved = false
  local vkey
  if not conv then
    conv = 'cv_' .. next_id('conversation')
    vkey = conv_key(conv)
    -- A VIP customer goes to a person, not the bot.
    local status = (bot_enabled and cust_vip ~= '1') and 'bot' or 'queued'
    csat_open = not cust_new and owes_csat(cust, channel)
    route_here = status == 'queued' and not csat_open and A[23] == '1' and cust_vip ~= '1' and
      cust_language == A[24]
    redis.call('HSET', vkey, 'id', conv, 'channel', channel, 'kind', kind, 'customer_id', cust,
      'status', status, 'priority', 'normal', 'assignee', '', 'team', team, 'seq', seq,
      'created_at', now, 'updated_at', now, 'last_customer_message_at', wrote_at, 'recipient', recipient,
      'last_message', last_message_field(seq, now, 'customer', preview_text, attachments))
    if subject_key ~= '' then redis.call('HSET', vkey, 'subject_key', subject_key) end
    -- Replies to another address than the sender's (a Reply-To): the agent is shown where.
    local elsewhere = kind == 'email' and recipient ~= ext and recipient or nil
    if elsewhere then redis.call('HSET', vkey, 'replies_elsewhere', elsewhere) end
    redis.call('SET', open_key, conv)
    redis.call('RPUSH', ckey .. ':conversations', conv)
    if status == 'queued' and not route_here then await_routing(conv, now) end
    created = '1'
    v = { id = conv, channel = channel, kind = kind, customer_id = cust, status = status, priority = 'normal',
      assignee = '', team = team, seq = '1', created_at = now, updated_at = now, last_customer_message_at = wrote_at,
      customer_name = cust_name, replies_elsewhere = elsewhere }
  else
    vkey = conv_key(conv)
    v = conv_state(conv, not guest and cust_name or nil, { 'campaign', 'campaign_until', 'routed', 'side', 'bot_idle',
      'recipient' })
    was_resolved = v.status == 'resolved'
    if v.bot_idle and v.status == 'resolved' and cust_vip ~= '1' then reopen_with_bot(conv, v, open_key, now) end
    seq = tostring(tonumber(v.seq or '0') + 1)
    if tonumber(wrote_at) > (tonumber(v.last_customer_message_at or '') or 0) then v.last_customer_message_at = wrote_at end
    v.seq, v.updated_at = seq, now
    -- Anyone can write a customer's From: a mail changes where an open mail
    -- conversation's replies go (its Reply-To) only through the secret reply token.
    local current = v.recipient ~= '' and v.recipient or nil
    local moves = not current or not (guest or (kind == 'email' and not thread_any_sender))
    redis.call('HSET', vkey, 'seq', seq, 'updated_at', now, 'last_customer_message_at', v.last_customer_message_at,
      'recipient', moves and recipient or current,
      'last_message', last_message_field(seq, now, 'customer', preview_text, attachments))
    if moves and not guest and kind == 'email' then
      v.replies_elsewhere = recipient ~= ext and recipient or nil
      if v.replies_elsewhere then redis.call('HSET', vkey, 'replies_elsewhere', recipient)
      else redis.call('HDEL', vkey, 'replies_elsewhere') end
    end
  end
  -- A message into a resolved conversation (a rating, an opt-out) leaves it
  -- resolved; route.lua's reopen puts a reopened one back in the list.
  if v.status ~= 'resolved' and v.status ~= 'closed' then redis.call('ZADD', p .. 'team:' .. v.team .. ':open', now, conv) end
  -- With the bot: the customer's last message, for the idle resolve (tick.lua).
  if v.status == 'bot' then redis.call('ZADD', p .. 'timers:bot_idle', now, conv) end
  -- With an agent: the customer waits for an answer from now, unless already
  -- (the earlier deadline stands); the agent's reply disarms it, and the tick
  -- moves it on from an agent gone offline or away (tick.lua).
  if v.status == 'assigned' and setting('reassign_ms') > 0 then
    redis.call('ZADD', p .. 'timers:reassign', 'NX', tonumber(now) + setting('reassign_ms'), conv)
  end

  local id = conv .. ':' .. seq
  if guest then
    message_json = string.sub(message_json, 1, -2) .. ',"author_name":' .. json_string(display_name ~= '' and display_name or ext) ..
      ',"author_address":' .. json_string(ext) .. '}'
  end
  emit_json(conv, seq, 'message', '"message":' .. inbound_message(message_json, conv, seq, 'customer', channel, now),
    guest and v.customer_id or cust, v)

  if dkey then redis.call('SET', dkey, conv .. "|" .. seq .. "|" .. cust, 'EX', dedup_ttl) end
  -- The follow-up (mentions, CSAT, the bot's turn, routing) is due from now
  -- until a gateway ran it (followup.lua): stored means followed up, even
  -- when this answer never reaches the caller.
  redis.call('ZADD', p .. 'followup:due', now, conv .. '|' .. seq)
  -- Its files are copied before Meta's URLs expire: queued in the same call
  -- as the message, so no stored message misses its copies. Not an unsent
  -- one (nothing of it is kept). By Redis's clock, the copier's
  -- (meta_media.lua); a redelivery is a duplicate above and queues nothing.
  if attachments and A[22] == 'copy' then
    redis.call('ZADD', p .. 'meta_media:due', 'NX', redis_now_ms(), conv .. '|' .. seq)
  end
  -- Messengers refer back to a message by its provider id (edits, replies).
  -- Not an unsent one: a late edit or reaction of it is unknown, as after an unsend.
  if provider_id ~= '' and not unsent_at and
      (kind == 'telegram' or kind == 'whatsapp' or kind == 'messenger' or kind == 'instagram') then
    redis.call('SET', p .. 'provider_msg:' .. channel .. ':' .. provider_id, id, 'EX', dedup_ttl)
  end
  -- A customer answering a campaign message (campaign.lua marked the
  -- conversation): counted once per customer for that campaign, within the
  -- reply window; the conversation is an ordinary one from now on. The
  -- campaign is in the answer: an opt-out ("stop") is no reply, and the
  -- opt-out step takes it back (aftersales.lua 'opt_out').
  local reply_counted_for = ''
  if v.campaign then
    redis.call('HDEL', vkey, 'campaign', 'campaign_until', 'side')
    -- The answer starts a contact: the reports count it today, not on the day
    -- the campaign went out, nor as a reopen. A conversation the campaign
    -- opened is indexed from now (rpt:created); a resolved one it went into
    -- keeps its first contact there and gets this one in rpt:contacts (by UTC
    -- day, as rpt:active), which the report reads for its period and the one before.
    if v.side == 'campaign' then
      redis.call('ZADD', p .. 'rpt:created', now, conv)
    elseif was_resolved then
      local day = math.floor(tonumber(now) / 86400000)
      redis.call('ZADD', p .. 'rpt:contacts', day * 86400000, conv .. '|' .. day)
    end
    if tonumber(v.campaign_until or '0') >= tonumber(now) and
        redis.call('SADD', p .. 'campaign:' .. v.campaign .. ':replied', cust) == 1 then
      redis.call('HINCRBY', p .. 'campaign:' .. v.campaign .. ':stats', 'replied', 1)
      redis.call('ZADD', p .. 'campaigns:dirty', now, v.campaign)
      reply_counted_for = v.campaign
    end
    -- A later "stop" in this conversation within the window is still the
    -- campaign's opt-out (aftersales.lua 'opt_out').
    redis.call('HSET', vkey, 'campaign_answered', v.campaign .. ' ' .. (v.campaign_until or '0'))
  end
  -- Routed: the team's rules were applied; a queued, routed conversation needs
  -- nothing more from routing when its customer writes again.
  local status, routed = v.status, v.routed or '0'
  if route_here then
    status = apply_route(conv, tonumber(now), decision_args(25, A), v)
    routed = '1'
  end
  -- A resolved conversation may get the rating or comment too.
  -- A guest's "5" or "stop" is not the customer's rating or opt-out.
  if created == '0' and status == 'resolved' and not guest then csat_open = not cust_new and owes_csat(cust, channel) end
  return { 'stored', conv, seq, cust, created, status, routed, csat_open and '1' or '0', guest and '1' or '0',
    reply_counted_for, unsent_at and '1' or '0' }
end

-- One answer per message, in order. A message whose script fails answers
-- { 'error', text } alone; the rest of the batch still lands.
call.events = {}
local answers, i = {}, 3
for m = 1, tonumber(ARGV[2]) do
  local count = tonumber(ARGV[i])
  local A = { p, unpack(ARGV, i + 1, i + count) }
  local ok, answer = pcall(ingest_one, A)
  if not ok then answer = { 'error', type(answer) == 'table' and (answer.err or '') or tostring(answer) } end
  answers[m] = answer
  i = i + count + 1
end
for _, c in pairs(counters) do
  if c.more then redis.call('SET', c.key, c.value) end
end
if #call.events > 0 then redis.call('PUBLISH', p .. 'events', table.concat(call.events, '\n')) end
return answers
