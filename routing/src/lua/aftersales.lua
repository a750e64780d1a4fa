-- After-sales state changes, atomically (one function of the script library,
-- routing/src/lua_scripts.cpp). ARGV: prefix, op, now_ms, then per op:
--   import   customer_id, channel, kind, external_id, name, language, tags
--            (comma-joined, merged), vip ('' | '1' | '0'), purchase_key
--            (order_id|serial, '' = none), purchase_json, serial, keys
--            ('email:…' / 'phone:…' lines: verified keys; with them channel and
--            external_id may be '': the customer is found or created by key)
--            -> { 'created' | 'updated' | 'unchanged' | 'customer', customer, new_customer } | { 'no_customer', id }
--               | { 'erased', id }
--   opt_out  customer, conv, channel, created, ack_text, answered (the campaign
--            whose replied count the message raised: ingest.lua; '' none), msg_seq
--   unsubscribe  token (a campaign mail's link), confirm ('1' opts out, '0' only looks)
--            -> { 'not_found' } | { 'subscribed' | 'opted_out' | 'already', language }
--            (the opt-out counts in the campaign that mailed the link as a "stop"
--            answering it does: a customer who does both counts once, count_opt_out)
--   ask      conv, text, buttons_json, window_ms, bot_only ('1': ask when no person answered too),
--            whatsapp template, its language (outside WhatsApp's 24-hour window
--            the ask goes out as that template; none: { 'outside_window' })
--   rate     customer, channel, msg_conv, created, rating, comment_window_ms, thanks en, fa, ar, msg_seq,
--            survey_conv (the conversation the pressed button names; '' = the
--            latest asked: csat:pending), window_ms (how long a survey is answered)
--   comment  customer, channel, msg_conv, created, comment, thanks en, fa, ar, msg_seq,
--            kind ('praise' | 'complaint' | 'request': bot/csat_comment.hpp; '' = request)
--            -> { 'commented' | 'commented_open' (a request: it goes on to the bot or
--            an agent, in its own new conversation or reopening the resolved one it
--            landed in), seq, rated conv }
--            (the thanks in the customer's language, picked here: no extra round trip)
-- opt_out, rate and comment answer a message (msg_conv|msg_seq) once: run
-- again for it (its follow-up was run twice: gateway/src/followup.cpp) they
-- answer as the first time and change nothing (followup:step:<conv>|<seq>,
-- kept a day: longer than the follow-up is retried).
-- Keys: cust:{id} (opt_out, opt_out_at, opt_out_channel, tags), cust:{id}:purchases
-- (hash order|serial -> JSON), serial:{serial} -> customer, csat:pending:{cust}:{channel}
-- and csat:comment:{cust}:{channel} -> conv (with TTL; a comment is waited for
-- until anything else goes to the customer there: sent_to_customer),
-- csat:agent:{agent} (hash count, sum, r1..r5), campaign:{id}:opted_out (the
-- customers its opted_out counted). Reports read ratings from the
-- conversation logs.
-- A conversation opened only by a rating, an opt-out or a comment that is
-- feedback (praise, a complaint) is closed as a side conversation (field
-- `side`), which reports skip; one opened by a comment that is a request
-- stays open (op comment).
local op, now = ARGV[2], tonumber(ARGV[3])

-- The answer an earlier run of this step gave for the message, if any
-- (remember keeps it).
local step_key
local function earlier_answer(msg_conv, msg_seq)
  if not msg_seq or msg_seq == '' then return nil end
  step_key = p .. 'followup:step:' .. msg_conv .. '|' .. msg_seq
  local earlier = redis.call('GET', step_key)
  if not earlier then return nil end
  local answer = {}
  for word in string.gmatch(earlier, '%S+') do answer[#answer + 1] = word end
  return answer
end
local function remember(answer)
  if step_key then redis.call('SET', step_key, table.concat(answer, ' '), 'EX', 86400) end
  return answer
end

-- An automatic message from the system.
local function quiet_outbound(conv, text, buttons, extra)
  return append_outbound(conv, 'system', '', '', '', text, now, true, buttons, extra)
end

local function in_language(cust, en, fa, ar)
  local lang = redis.call('HGET', p .. 'cust:' .. cust, 'language')
  if lang == 'fa' then return fa elseif lang == 'ar' then return ar end
  return en
end

-- Routing may have reached it already (inside ingest, or a queue drain):
-- an agent it was assigned to gets the capacity back at once.
local function fold_side(msg_conv, created, kind, of)
  if created ~= '1' or msg_conv == of then return end
  local vkey = conv_key(msg_conv)
  local h = redis.call('HMGET', vkey, 'assignee', 'team')
  local assignee = h[1] or ''
  leave_routing(msg_conv, assignee, h[2] or '', now)
  redis.call('HSET', vkey, 'side', kind, 'side_of', of or '')
  change_status(msg_conv, 'closed', 'system', now, { reason = kind, side_of = of })
  if assignee ~= '' then drain_agent(assignee, now, 10) end
end

if op == 'import' then
  local id, channel, kind, ext = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
  local name, language, tags, vip = ARGV[8], ARGV[9], ARGV[10], ARGV[11]
  local pkey, pjson, serial = ARGV[12], ARGV[13], ARGV[14]
  local keys = {}
  for k in string.gmatch(ARGV[15] or '', '[^\n]+') do keys[#keys + 1] = k end
  local new_customer = '0'
  if id == '' then
    local ikey = ext ~= '' and (p .. 'ident:' .. channel .. ':' .. ext) or nil
    local linked = ikey and redis.call('GET', ikey)
    id = linked
    -- The customer a verified key names: the one who already wrote from this
    -- WhatsApp number or mailed from this address.
    for _, k in ipairs(keys) do
      if id then break end
      local holder = redis.call('GET', p .. 'key:' .. k)
      if holder and not (ikey and has_identity_on(holder, channel)) then id = holder end
    end
    if not id then
      id = 'cu_' .. redis.call('INCR', p .. 'next:customer')
      redis.call('HSET', p .. 'cust:' .. id, 'id', id, 'name', name, 'language', language, 'created_at', now, 'vip', '0')
      new_customer = '1'
    end
    if ikey and not linked then
      redis.call('SET', ikey, id)
      redis.call('HSET', p .. 'cust:' .. id .. ':identities', channel .. ':' .. ext,
        cjson.encode({ channel = channel, kind = kind, external_id = ext, display_name = name }))
    end
  elseif redis.call('EXISTS', p .. 'cust:' .. id) == 0 then
    return { 'no_customer', id }
  elseif redis.call('HEXISTS', p .. 'cust:' .. id, 'erased_at') == 1 then
    return { 'erased', id }  -- erase.lua: the file takes no personal data again
  end
  for _, k in ipairs(keys) do index_customer_key(id, k, now) end
  local ckey = p .. 'cust:' .. id
  if name ~= '' then redis.call('HSET', ckey, 'name', name) end
  if language ~= '' then redis.call('HSET', ckey, 'language', language) end
  if vip ~= '' then redis.call('HSET', ckey, 'vip', vip) end
  search_customer_changed(id, now)
  if tags ~= '' then
    local set, list = {}, {}
    for t in string.gmatch((redis.call('HGET', ckey, 'tags') or '') .. ',' .. tags, '[^,]+') do
      if not set[t] then set[t] = true; list[#list + 1] = t end
    end
    table.sort(list)
    redis.call('HSET', ckey, 'tags', table.concat(list, ','))
  end
  if pkey == '' then return { 'customer', id, new_customer } end
  local old = redis.call('HGET', ckey .. ':purchases', pkey)
  if old == pjson then return { 'unchanged', id, new_customer } end
  redis.call('HSET', ckey .. ':purchases', pkey, pjson)
  if serial ~= '' then redis.call('SET', p .. 'serial:' .. serial, id) end
  return { old and 'updated' or 'created', id, new_customer }
end

-- A customer counts once in a campaign's opted_out (campaign:<id>:opted_out),
-- however they opt out and however often: a "stop" answering it, its mail's
-- link, or both in either order. A "stop" that ingest.lua counted as a reply
-- (`taken_back`) is no reply: the customer leaves the campaign's replied.
local function count_opt_out(campaign, cust, taken_back)
  local ck = p .. 'campaign:' .. campaign
  local changed = false
  if taken_back and redis.call('SREM', ck .. ':replied', cust) == 1 then
    redis.call('HINCRBY', ck .. ':stats', 'replied', -1)
    changed = true
  end
  if redis.call('SADD', ck .. ':opted_out', cust) == 1 then
    redis.call('HINCRBY', ck .. ':stats', 'opted_out', 1)
    changed = true
  end
  -- The consoles' view of the campaign is redrawn only when a count moved.
  if changed then redis.call('ZADD', p .. 'campaigns:dirty', now, campaign) end
end

-- A "stop" answering a campaign message is the campaign's opted_out. As the
-- first answer it is no reply to it: ingest.lua counted it before the words
-- were read (it names the campaign, `answered`) and it is taken back. After
-- an earlier answer ("thanks", then "stop"), within the reply window
-- (ingest.lua keeps campaign_answered), the reply stays and the opt-out adds.
local function count_campaign_opt_out(answered, cust, conv, first)
  if answered ~= '' then return count_opt_out(answered, cust, true) end
  if not first then return end
  local earlier = redis.call('HGET', conv_key(conv), 'campaign_answered') or ''
  local id, till = string.match(earlier, '^(%S+) (%d+)$')
  if not id or tonumber(till) < tonumber(now) then return end
  count_opt_out(id, cust, false)
end

local function opt_out(cust, conv, channel, created, ack, answered)
  local ckey = p .. 'cust:' .. cust
  local first = redis.call('HGET', ckey, 'opt_out') ~= '1'
  if first then redis.call('HSET', ckey, 'opt_out', '1', 'opt_out_at', now, 'opt_out_channel', channel) end
  count_campaign_opt_out(answered, cust, conv, first)
  local seq = redis.call('HINCRBY', conv_key(conv), 'seq', 1)
  emit(conv, seq, 'opt_out', { customer = cust, channel = channel, at = now, first = first })
  quiet_outbound(conv, ack, nil)
  fold_side(conv, created, 'opt_out', nil)
  return { first and 'opted_out' or 'already', tostring(seq) }
end

if op == 'opt_out' then
  return earlier_answer(ARGV[5], ARGV[10]) or remember(opt_out(ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9] or ''))
end

if op == 'unsubscribe' then
  local link = redis.call('HMGET', p .. 'unsubscribe:' .. ARGV[4], 'customer', 'channel', 'campaign', 'campaign_until')
  local cust = link[1]
  if not cust then return { 'not_found' } end
  -- A merged file's link speaks for the file it joined.
  for _ = 1, 10 do
    local into = redis.call('HGET', p .. 'cust:' .. cust, 'merged_into')
    if not into then break end
    cust = into
  end
  local ckey = p .. 'cust:' .. cust
  local h = redis.call('HMGET', ckey, 'opt_out', 'language')
  local language = h[2] or ''
  if h[1] == '1' then return { 'already', language } end
  if ARGV[5] ~= '1' then return { 'subscribed', language } end
  redis.call('HSET', ckey, 'opt_out', '1', 'opt_out_at', now, 'opt_out_channel', link[2] or '')
  -- The campaign's opted_out, as for a "stop" answering it: the latest
  -- campaign that mailed the link, within its reply window (campaign.lua).
  -- An earlier answer to it stays a reply, as before a later "stop".
  if link[3] and tonumber(link[4] or '0') >= now then count_opt_out(link[3], cust, false) end
  return { 'opted_out', language }
end

if op == 'ask' then
  local conv, text, buttons_json, window, bot_only = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8] == '1'
  local vkey = conv_key(conv)
  local h = redis.call('HMGET', vkey, 'status', 'human_replied', 'customer_id', 'channel', 'csat_asked', 'assignee', 'side',
    'kind', 'last_customer_message_at')
  if not h[1] then return { 'not_found' } end
  if h[1] ~= 'resolved' then return { 'not_resolved' } end
  if h[5] then return { 'already' } end
  if h[7] or (h[2] ~= '1' and not bot_only) then return { 'bot_only' } end
  if redis.call('HGET', p .. 'cust:' .. h[3], 'opt_out') == '1' then return { 'opted_out' } end
  -- WhatsApp and Meta's channels take automatic text only within 24 h of the
  -- customer's last message; after that WhatsApp takes a template, Meta nothing.
  local extra = nil
  local windowed = h[8] == 'whatsapp' or h[8] == 'messenger' or h[8] == 'instagram'
  if windowed and now - tonumber(h[9] or '0') > 24 * 3600 * 1000 then
    if h[8] ~= 'whatsapp' or ARGV[9] == '' then return { 'outside_window' } end
    extra = { template_name = ARGV[9], template_language = ARGV[10] }
  end
  redis.call('HSET', vkey, 'csat_asked', now, 'csat_agent', h[6] or '')
  local buttons = nil
  if buttons_json ~= '' then buttons = cjson.decode(buttons_json) end
  local seq = quiet_outbound(conv, text, buttons, extra)
  redis.call('SET', p .. 'csat:pending:' .. h[3] .. ':' .. h[4], conv, 'PX', window)
  return { 'asked', tostring(seq) }
end

-- A rating or comment is the customer writing to the rated conversation (it
-- may have come in a conversation of its own): its reply window, which the
-- thanks needs, starts again.
local function customer_wrote(conv, msg_conv)
  if msg_conv == conv then return end
  local at = tonumber(redis.call('HGET', conv_key(msg_conv), 'last_customer_message_at') or '')
  local before = tonumber(redis.call('HGET', conv_key(conv), 'last_customer_message_at') or '0') or 0
  if at and at > before then redis.call('HSET', conv_key(conv), 'last_customer_message_at', at) end
end

-- The survey a rating answers: the one its button names (an earlier survey
-- than the latest asked on the channel is still answered, within the
-- window), else the latest asked. Never one not asked of this customer.
-- Also answers the latest asked.
local function rated_survey(cust, pkey, named, window)
  local latest = redis.call('GET', pkey)
  if named == '' or named == latest then return latest, latest end
  local h = redis.call('HMGET', conv_key(named), 'customer_id', 'csat_asked')
  if h[1] ~= cust or not h[2] or now - tonumber(h[2]) > tonumber(window) then return nil, latest end
  return named, latest
end

local function rate(cust, channel, msg_conv, created, rating, cwin, named, window)
  local pkey = p .. 'csat:pending:' .. cust .. ':' .. channel
  local conv, latest = rated_survey(cust, pkey, named, window)
  if not conv then return { 'none' } end
  -- The latest survey stays pending while an earlier one is rated.
  if conv == latest then redis.call('DEL', pkey) end
  local vkey = conv_key(conv)
  if redis.call('HSETNX', vkey, 'csat_rating', rating) == 0 then return { 'already' } end
  local agent = redis.call('HGET', vkey, 'csat_agent') or ''
  redis.call('HSET', vkey, 'csat_at', now)
  if agent ~= '' then
    local akey = p .. 'csat:agent:' .. agent
    redis.call('HINCRBY', akey, 'count', 1)
    redis.call('HINCRBY', akey, 'sum', tonumber(rating))
    redis.call('HINCRBY', akey, 'r' .. rating, 1)
  end
  customer_wrote(conv, msg_conv)
  local seq = redis.call('HINCRBY', vkey, 'seq', 1)
  emit(conv, seq, 'csat', { rating = tonumber(rating), agent = agent, at = now, via = msg_conv })
  quiet_outbound(conv, in_language(cust, ARGV[10], ARGV[11], ARGV[12]), nil)
  -- After the thanks, so that only a later message ends the wait.
  redis.call('SET', p .. 'csat:comment:' .. cust .. ':' .. channel, conv, 'PX', cwin)
  fold_side(msg_conv, created, 'csat', conv)
  return { 'rated', tostring(seq), conv }
end

if op == 'rate' then
  return earlier_answer(ARGV[6], ARGV[13]) or
    remember(rate(ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[14] or '', ARGV[15] or '0'))
end

local function comment_on(cust, channel, msg_conv, created, comment, kind)
  local key = p .. 'csat:comment:' .. cust .. ':' .. channel
  local conv = redis.call('GET', key)
  if not conv then return { 'none' } end
  redis.call('DEL', key)
  local vkey = conv_key(conv)
  if redis.call('HSETNX', vkey, 'csat_comment', comment) == 0 then return { 'already' } end
  redis.call('HSET', vkey, 'csat_comment_kind', kind)
  customer_wrote(conv, msg_conv)
  -- A request ("another problem: …") is kept as the comment and goes on to
  -- the bot or an agent instead of being left unread: its new conversation
  -- stays open, a resolved one it landed in (a reopen window) is reopened.
  -- Feedback, once thanked, needs nobody: a conversation of its own is
  -- closed as a side one (`side` on the event: the web chat widget shows the
  -- comment in the rated conversation), a resolved one stays resolved.
  local side = kind ~= 'request' and created == '1' and msg_conv ~= conv
  local seq = redis.call('HINCRBY', vkey, 'seq', 1)
  emit(conv, seq, 'csat_comment', { comment = comment, kind = kind, at = now, via = msg_conv, side = side or nil })
  quiet_outbound(conv, in_language(cust, ARGV[9], ARGV[10], ARGV[11]), nil)
  if kind == 'request' then return { 'commented_open', tostring(seq), conv } end
  if side then fold_side(msg_conv, created, 'csat_comment', conv) end
  return { 'commented', tostring(seq), conv }
end

if op == 'comment' then
  local kind = ARGV[13] or ''
  if kind ~= 'praise' and kind ~= 'complaint' then kind = 'request' end
  return earlier_answer(ARGV[6], ARGV[12]) or remember(comment_on(ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], kind))
end

return { 'unknown_op', op }
