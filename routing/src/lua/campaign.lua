-- Campaigns (issue 8, proactive outreach), atomically. Runs with the prelude;
-- one function of the script library. ARGV: prefix, op, now_ms, then per op:
--   create   name, kind, definition_json, start_at, created_by -> { id }
--   control  id, action (pause | resume | cancel | finish) -> { 'ok' | 'invalid_state' | 'not_found', status }
--   lease    instance, lease_ms -> 1 when this instance holds the campaign lease
--   release  instance
--   note     id, field, value ('' deletes): the loop's own bookkeeping (cursor, pass, quiet_until, next_scan_at)
--   send     id, member, customer, channels ("id:kind:team,..." the campaign may use), filtered ('1': the
--            campaign names channels), text, template_name, template_language, template_params_json,
--            reply_window_ms, author_name, window_ms, unsubscribe_token (fresh; an email
--            customer without one gets it: unsubscribe:{token} -> customer, channel; and
--            campaign, campaign_until: the latest campaign that mailed it and its reply window's end),
--            stop_hint (how to opt out, in the text's language: ends a text that is not
--            mail, which says it in its own footer, nor a WhatsApp template), today (the
--            campaign time zone's day number: a dated member waits while its customer
--            got a message of this campaign today)
--            -> { outcome, channel, conv, seq }: outcome queued | already | later | not_audience |
--               skipped_opted_out | skipped_no_channel | skipped_no_template
--   preview  channels, filtered, template_name, window_ms, customers... -> per customer
--            { outcome, channel }: what "send" would do now, writing nothing
--   views    id, ... -> JSON array of campaign views
--   progress -> number of campaigns whose view was published
-- Keys: campaign:{id} (hash: id, name, kind, definition, status, created_at, created_by,
-- start_at, cursor, pass, quiet_until, next_scan_at, updated_at), campaign:{id}:stats
-- (hash of counts), campaign:{id}:claimed (set of members: each gets one message, ever),
-- campaign:{id}:sent (member -> conv:seq), campaign:{id}:replied (set of customers),
-- campaign:{id}:opted_out (set of customers; aftersales.lua),
-- campaign:{id}:day (customer -> the day of their latest message),
-- campaigns (zset by creation), campaigns:active (set), campaigns:dirty (zset: views to
-- publish), campaigns:lease, next:campaign.
-- Delivery statuses are counted by delivery.lua (the message's delivery record names
-- its campaign) and replies by ingest.lua (the conversation's `campaign` field);
-- a reply that opts out is moved from replied to opted_out (aftersales.lua).
local op, now = ARGV[2], tonumber(ARGV[3])
local function ckey(id) return p .. 'campaign:' .. id end
local function dirty(id) redis.call('ZADD', p .. 'campaigns:dirty', now, id) end
local function count(id, what) redis.call('HINCRBY', ckey(id) .. ':stats', what, 1); dirty(id) end

local stat_names = { 'queued', 'sent', 'delivered', 'read', 'failed', 'replied', 'opted_out', 'skipped_opted_out',
  'skipped_no_channel', 'skipped_no_template' }

local function view(id)
  local h = redis.call('HMGET', ckey(id), 'id', 'name', 'kind', 'status', 'created_at', 'start_at', 'quiet_until',
    'updated_at', 'created_by', 'pass', 'next_scan_at')
  if not h[1] then return nil end
  local s = redis.call('HGETALL', ckey(id) .. ':stats')
  local stats = {}
  for _, n in ipairs(stat_names) do stats[n] = 0 end
  for i = 1, #s, 2 do stats[s[i]] = tonumber(s[i + 1]) end
  local status = h[4]
  if status == 'running' and tonumber(h[6] or '0') > now then status = 'scheduled' end
  local v = { id = h[1], name = h[2], kind = h[3], status = status, created_at = tonumber(h[5]),
    start_at = tonumber(h[6]), updated_at = tonumber(h[8]), created_by = h[9], stats = stats,
    pass = tonumber(h[10] or '0') }
  if h[7] and h[7] ~= '' and status == 'running' then v.quiet_until = tonumber(h[7]) end
  if h[11] and h[11] ~= '' then v.next_scan_at = tonumber(h[11]) end
  return v
end

if op == 'create' then
  local id = 'cp_' .. redis.call('INCR', p .. 'next:campaign')
  redis.call('HSET', ckey(id), 'id', id, 'name', ARGV[4], 'kind', ARGV[5], 'definition', ARGV[6], 'status', 'running',
    'created_at', now, 'start_at', ARGV[7], 'created_by', ARGV[8], 'cursor', 0, 'pass', 0, 'updated_at', now)
  redis.call('ZADD', p .. 'campaigns', now, id)
  redis.call('SADD', p .. 'campaigns:active', id)
  dirty(id)
  return { id }
end

if op == 'control' then
  local id, action = ARGV[4], ARGV[5]
  local status = redis.call('HGET', ckey(id), 'status')
  if not status then return { 'not_found', '' } end
  local allowed = { pause = { running = 'paused' }, resume = { paused = 'running' },
    cancel = { running = 'cancelled', paused = 'cancelled' }, finish = { running = 'done' } }
  local next_status = allowed[action] and allowed[action][status]
  if not next_status then return { 'invalid_state', status } end
  redis.call('HSET', ckey(id), 'status', next_status, 'updated_at', now)
  if next_status == 'cancelled' or next_status == 'done' then
    redis.call('SREM', p .. 'campaigns:active', id)
    redis.call('HDEL', ckey(id), 'quiet_until', 'next_scan_at')
  end
  dirty(id)
  return { 'ok', next_status }
end

if op == 'lease' then return hold_lease(p .. 'campaigns:lease', ARGV[4], ARGV[5]) and 1 or 0 end

if op == 'release' then
  release_lease(p .. 'campaigns:lease', ARGV[4])
  return 0
end

if op == 'note' then
  local id, field, value = ARGV[4], ARGV[5], ARGV[6]
  if redis.call('EXISTS', ckey(id)) == 0 then return 0 end
  local old = redis.call('HGET', ckey(id), field)
  if value == '' then redis.call('HDEL', ckey(id), field) else redis.call('HSET', ckey(id), field, value) end
  -- What an admin sees (quiet hours, the next look) is published; the cursor is not.
  if field ~= 'cursor' and (old or '') ~= value then dirty(id) end
  return 1
end

if op == 'views' then
  local out = {}
  for i = 4, #ARGV do
    local v = view(ARGV[i])
    if v then out[#out + 1] = v end
  end
  if #out == 0 then return '[]' end
  return cjson.encode(out)
end

if op == 'progress' then
  local ids = redis.call('ZRANGE', p .. 'campaigns:dirty', 0, 99)
  if #ids == 0 then return 0 end
  redis.call('ZREM', p .. 'campaigns:dirty', unpack(ids))
  -- Admin sessions listen on "all"; the team name is one no team can have.
  local header = '{"team":":admins","conv":"","customer":"","seq":0,"assignee":""}'
  for _, id in ipairs(ids) do
    local v = view(id)
    if v then
      redis.call('PUBLISH', p .. 'events', header .. '\n' ..
        cjson.encode({ type = 'event', event = 'campaign', seq = 0, campaign = v, at = now }))
    end
  end
  return #ids
end

-- Channels on which nobody can be messaged before they wrote: a Telegram bot
-- cannot start a chat; Messenger and Instagram answer only within the window
-- of the customer's own message.
local needs_their_first_message = { telegram = true, messenger = true, instagram = true }

-- Where and how a customer would be messaged, without writing anything:
-- { outcome, channel, last_at, recipient, latest, template } with outcome
-- queued | not_audience | skipped_opted_out | skipped_no_channel |
-- skipped_no_template. `allowed`: channel -> { kind, team }; `filtered`: the
-- campaign names its channels (a customer on none of them is not its audience).
local function plan(cust, allowed, filtered, tpl_name, window_ms)
  local custkey = p .. 'cust:' .. cust
  -- An erased file (erase.lua) is nobody to write to any more.
  if redis.call('HEXISTS', custkey, 'erased_at') == 1 then return { outcome = 'not_audience', latest = {}, template = false } end
  -- The channel the customer last wrote on, among the allowed ones; its newest
  -- conversation that is not closed, and when they last wrote there.
  local best, best_at, latest = nil, -1, {}
  local convs = redis.call('LRANGE', custkey .. ':conversations', -100, -1)
  for i = #convs, 1, -1 do
    local h = redis.call('HMGET', conv_key(convs[i]), 'channel', 'last_customer_message_at', 'status')
    if h[1] and allowed[h[1]] then
      local at = tonumber(h[2] or '0') or 0
      if at > best_at then best, best_at = h[1], at end
      if not latest[h[1]] and h[3] ~= 'closed' then latest[h[1]] = convs[i] end
    end
  end
  -- Never wrote on one of them: an identity there (an imported customer) will
  -- do, on a channel where we may write first. One where we may not still makes
  -- them the audience of a campaign that names it (skipped, not left out).
  local recipient, unreachable = nil, false
  if not best then
    local fields = redis.call('HKEYS', custkey .. ':identities')
    table.sort(fields)
    for _, f in ipairs(fields) do
      local ch, ext = string.match(f, '^([^:]+):(.+)$')
      if ch and allowed[ch] then
        if not needs_their_first_message[allowed[ch].kind] then best, best_at, recipient = ch, 0, ext; break end
        unreachable = true
      end
    end
  end
  local out = { channel = best, last_at = best_at, recipient = recipient, latest = latest, template = false }
  if not best and filtered and not unreachable then out.outcome = 'not_audience'; return out end
  if redis.call('HGET', custkey, 'opt_out') == '1' then out.outcome = 'skipped_opted_out'; return out end
  if not best then out.outcome = 'skipped_no_channel'; return out end
  -- Messaging windows: WhatsApp takes only a template after 24 hours; Messenger
  -- and Instagram nothing at all (no tagged messages for promotions).
  local kind = allowed[best].kind
  if kind == 'whatsapp' or kind == 'messenger' or kind == 'instagram' then
    if best_at <= 0 or now - best_at >= window_ms then
      if kind ~= 'whatsapp' or tpl_name == '' then out.outcome = 'skipped_no_template'; return out end
      out.template = true
    end
  end
  out.outcome = 'queued'
  return out
end

local function allowed_channels(spec)
  local allowed = {}
  for ch, kind, team in string.gmatch(spec, '([^:,]+):([^:,]+):([^:,]+)') do allowed[ch] = { kind = kind, team = team } end
  return allowed
end

-- preview  channels, filtered, template_name, window_ms, customers... -> per
-- customer { outcome, channel }: what "send" would do now (nothing is written).
if op == 'preview' then
  local allowed, filtered, tpl_name, window_ms = allowed_channels(ARGV[4]), ARGV[5] == '1', ARGV[6], tonumber(ARGV[7])
  local out = {}
  for i = 8, #ARGV do
    local r = plan(ARGV[i], allowed, filtered, tpl_name, window_ms)
    out[#out + 1] = { r.outcome, r.channel or '' }
  end
  return out
end

if op ~= 'send' then return { 'unknown_op', op } end

local id, member, cust, channels_spec, filtered = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8] == '1'
local text, tpl_name, tpl_lang, tpl_params = ARGV[9], ARGV[10], ARGV[11], ARGV[12]
local reply_window, author_name, window_ms = tonumber(ARGV[13]), ARGV[14], tonumber(ARGV[15])
local fresh_token, stop_hint, today = ARGV[16] or '', ARGV[17] or '', ARGV[18] or ''
local claimed = ckey(id) .. ':claimed'
if redis.call('SISMEMBER', claimed, member) == 1 then return { 'already' } end
if redis.call('HGET', ckey(id), 'status') ~= 'running' then return { 'not_running' } end
-- One message a day per customer: after days without sending (paused, every
-- instance down) items of several due days are owed at once; the next one
-- goes on a later pass while it is still within the catch-up days.
local day_key = ckey(id) .. ':day'
if today ~= '' and member ~= cust and redis.call('HGET', day_key, cust) == today then return { 'later' } end
local custkey = p .. 'cust:' .. cust
local allowed = allowed_channels(channels_spec)
local planned = plan(cust, allowed, filtered, tpl_name, window_ms)
if planned.outcome == 'not_audience' then return { 'not_audience' } end
redis.call('SADD', claimed, member)
if planned.outcome ~= 'queued' then
  count(id, planned.outcome)
  return { planned.outcome, planned.channel }
end
local best, best_at, recipient, latest = planned.channel, planned.last_at, planned.recipient, planned.latest
local kind, use_template = allowed[best].kind, planned.template
if kind ~= 'email' and not use_template and stop_hint ~= '' then text = text .. '\n\n' .. stop_hint end

-- Where the message lands: the open conversation on that channel, else the
-- newest earlier one (kept findable for the reply window, so a reply reopens
-- it with its history), else a new one; a conversation without an open case
-- stays out of the inbox until the customer answers.
local open_key = custkey .. ':open:' .. best
local conv = redis.call('GET', open_key)
if conv and redis.call('HGET', conv_key(conv), 'status') == 'closed' then conv = nil end
if not conv then
  conv = latest[best]
  if not conv then
    conv = 'cv_' .. redis.call('INCR', p .. 'next:conversation')
    if not recipient then
      for _, f in ipairs(redis.call('HKEYS', custkey .. ':identities')) do
        if string.sub(f, 1, #best + 1) == best .. ':' then recipient = string.sub(f, #best + 2); break end
      end
    end
    redis.call('HSET', conv_key(conv), 'id', conv, 'channel', best, 'kind', kind, 'customer_id', cust,
      'status', 'resolved', 'priority', 'normal', 'assignee', '', 'team', allowed[best].team, 'seq', 0,
      'created_at', now, 'updated_at', now, 'resolved_at', now, 'recipient', recipient or '', 'side', 'campaign')
    redis.call('RPUSH', custkey .. ':conversations', conv)
  end
  redis.call('SET', open_key, conv, 'PX', reply_window)
end
local vkey = conv_key(conv)
-- The messaging window is the customer's, not the conversation's: a newer
-- message of theirs in another conversation there (a closed side one) counts.
if best_at > 0 and best_at > (tonumber(redis.call('HGET', vkey, 'last_customer_message_at') or '0') or 0) then
  redis.call('HSET', vkey, 'last_customer_message_at', best_at)
end

-- append_outbound (prelude) with the campaign and template fields.
local h = redis.call('HMGET', vkey, 'team', 'channel', 'kind', 'recipient', 'status')
local seq = redis.call('HINCRBY', vkey, 'seq', 1)
redis.call('HSET', vkey, 'updated_at', now, 'campaign', id, 'campaign_until', now + reply_window,
  'last_message', last_message_field(seq, now, 'bot', text, false))
sent_to_customer(cust, best)
if h[5] ~= 'resolved' and h[5] ~= 'closed' then redis.call('ZADD', p .. 'team:' .. h[1] .. ':open', now, conv) end
local msg = { id = conv .. ':' .. seq, conversation_id = conv, seq = seq, direction = 'out', author = 'bot',
  author_id = '', author_name = author_name, text = text, channel = h[2], created_at = now, status = 'pending',
  campaign = id }
if use_template then msg.template = tpl_name end
emit(conv, seq, 'message', { message = msg })
local out = { message_id = msg.id, conversation_id = conv, seq = seq, channel = h[2], kind = h[3],
  recipient = h[4] or '', text = text, automatic = true, campaign = id }
-- A mail carries the customer's one-click unsubscribe link (one per customer).
if kind == 'email' and fresh_token ~= '' then
  local token = redis.call('HGET', custkey, 'unsubscribe_token')
  if not token then
    token = fresh_token
    redis.call('HSET', custkey, 'unsubscribe_token', token)
    redis.call('HSET', p .. 'unsubscribe:' .. token, 'customer', cust, 'channel', best)
  end
  -- The link is the customer's, in every campaign mail: an opt-out by it
  -- counts toward the latest campaign that mailed it, within the reply window
  -- (aftersales.lua 'unsubscribe'), as a "stop" answering it would.
  redis.call('HSET', p .. 'unsubscribe:' .. token, 'campaign', id, 'campaign_until', now + reply_window)
  out.unsubscribe_token = token
end
if use_template then
  out.template_name, out.template_language = tpl_name, tpl_lang
  local params = cjson.decode(tpl_params)
  if #params > 0 then out.template_params = params end
end
redis.call('HSET', vkey .. ':delivery', seq, cjson.encode({ status = 'pending', campaign = id }))
queue_outbound(h[2], out)
redis.call('HSET', ckey(id) .. ':sent', member, conv .. ':' .. seq)
if today ~= '' then redis.call('HSET', day_key, cust, today) end
count(id, 'queued')
return { 'queued', best, conv, tostring(seq) }
