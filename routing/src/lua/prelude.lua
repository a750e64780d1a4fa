-- Shared helpers of every conversation script. The scripts are functions of
-- one Redis function library (routing/src/lua_scripts.cpp): this file and
-- routing_lib.lua run once, when the library loads, so top-level code here may
-- only define things (Redis offers no tonumber, ipairs... while loading).
-- Keys are derived from the prefix inside the scripts: ingest must resolve
-- customer and conversation ids it cannot know in advance. (Not Redis Cluster
-- safe; a single primary with replicas is the supported topology.)

-- What one call knows: its arguments, the key prefix and what it gathers on
-- the way (`call.events`, `call.settings`). Library values outlive a call, so
-- every function starts with begin_call.
local KEYS, ARGV, p, call
local function begin_call(keys, args)
  KEYS, ARGV, p, call = keys, args, args[1], {}
end

local function conv_key(id) return p .. 'conv:' .. id end

-- The conversation as clients see it. Kinds: 's' string ('' when unset),
-- 'n' number (0 when unset); optional ones are left out when unset: 'os'
-- string, 'on' number, 'b' flag stored as '1'. Routing adds VIP, bot topic
-- tags, SLA due times, snooze end and labels (comma-joined).
local view_fields = {
  { 'id', 's' }, { 'channel', 's' }, { 'kind', 's' }, { 'customer_id', 's' }, { 'status', 's' },
  { 'priority', 's' }, { 'assignee', 's' }, { 'team', 's' }, { 'seq', 'n' }, { 'created_at', 'n' },
  { 'updated_at', 'n' }, { 'last_customer_message_at', 'n' }, { 'vip', 'b' }, { 'topic_tags', 'os' },
  { 'sla_breached', 'b' }, { 'sla_first_due', 'on' }, { 'sla_resolve_due', 'on' },
  { 'first_response_at', 'on' }, { 'snoozed_until', 'on' }, { 'labels', 'os' },
  -- Since when it waits for a person (its queue's order after priority; routing_lib.lua).
  { 'queued_at', 'on' },
  -- A mail conversation whose replies go to another address than the
  -- customer's who wrote (their Reply-To): that address (ingest.lua).
  { 'replies_elsewhere', 'os' },
}
local view_names = {}
for i = 1, #view_fields do view_names[i] = view_fields[i][1] end
-- Read with the view, never shown: how far retention scrubbed the log (emit_json).
view_names[#view_names + 1] = 'scrubbed_seq'

-- The stored fields of the view (name -> string) and the customer's name
-- (read unless the caller knows it); `extra`: more field names to read in the
-- same call (they land in the table too; the view ignores them).
local function conv_state(id, customer_name, extra)
  local names = view_names
  if extra then
    names = { unpack(view_names) }
    for _, name in ipairs(extra) do names[#names + 1] = name end
  end
  local values = redis.call('HMGET', conv_key(id), unpack(names))
  local v = {}
  for i, name in ipairs(names) do v[name] = values[i] or nil end
  v.customer_name = customer_name or redis.call('HGET', p .. 'cust:' .. (v.customer_id or ''), 'name') or ''
  return v
end

-- The newest message as the conversation list shows it (last_message of the
-- lists' views, conv_view; not in event frames, which carry their message),
-- so a list needs no conversation's log: kept in the conversation's hash as
-- one field, "<seq> <at> <author> <0|1> <text>" (1: it has attachments),
-- written where the message is stored.
-- The text as one line (whitespace runs as one space), cut to more than a
-- row shows of Latin or Persian text (two bytes a letter) where a UTF-8
-- character starts, '…' when cut. Reads a bounded part of any text.
local PREVIEW_BYTES = 240

-- The character starting at byte `i` of `s` belongs to the one before it:
-- an Arabic or Persian vowel mark (U+064B-065F, U+0670), ZWNJ or ZWJ, the
-- emoji presentation selector (U+FE0F), a skin tone (U+1F3FB-1F3FF).
local function attaches_to_previous(s, i)
  local b1, b2, b3, b4 = string.byte(s, i, i + 3)
  if not b2 then return false end  -- a one-byte character (or a cut sequence)
  if b1 == 0xD9 then return (b2 >= 0x8B and b2 <= 0x9F) or b2 == 0xB0 end
  if b1 == 0xE2 then return b2 == 0x80 and (b3 == 0x8C or b3 == 0x8D) end
  if b1 == 0xEF then return b2 == 0xB8 and b3 == 0x8F end
  if b1 == 0xF0 then return b2 == 0x9F and b3 == 0x8F and b4 ~= nil and b4 >= 0xBB and b4 <= 0xBF end
  return false
end

-- `s` cut to at most `n` bytes where a character and its marks start (never
-- inside a character, never between a letter and its vowel mark or inside a
-- ZWJ emoji sequence).
local function utf8_head(s, n)
  if #s <= n then return s end
  local i = n + 1
  while true do
    while i > 1 do
      local b = string.byte(s, i)
      if b < 128 or b >= 192 then break end  -- not a continuation byte: a character starts here
      i = i - 1
    end
    local after_zwj = i > 3 and string.sub(s, i - 3, i - 1) == '\226\128\141'
    if i == 1 or not (after_zwj or attaches_to_previous(s, i)) then break end
    i = i - 1
  end
  return string.sub(s, 1, i - 1)
end

-- Whitespace runs as one space. Most texts are one line with single spaces:
-- four plain finds (memchr) tell, where a '%s' pattern costs Redis three to
-- four times as much (ingest runs this for every message).
local function one_line(s)
  if string.find(s, '\n', 1, true) or string.find(s, '  ', 1, true) or string.find(s, '\t', 1, true) or
      string.find(s, '\r', 1, true) then
    return (string.gsub(s, '%s+', ' '))
  end
  return s
end

-- Leading blank lines and spaces are skipped before the cut, so a text that
-- starts with many (a mail converted from HTML) still shows its words.
local function message_preview(text)
  local start = string.find(text, '[^%s]') or (#text + 1)
  local head = utf8_head(string.sub(text, start, start + PREVIEW_BYTES * 2), PREVIEW_BYTES * 2)
  local line = one_line(head)
  local cut = #line > PREVIEW_BYTES or start + #head <= #text
  if cut then line = utf8_head(line, PREVIEW_BYTES) end
  if string.byte(line, -1) == 32 then line = string.sub(line, 1, -2) end
  return cut and line .. '…' or line
end

-- "seq at author flag preview": flag 1 when it has attachments, 0 when not, d<ms> when the
-- customer unsent it (deleted_at: the list says so after a reload too).
local function last_message_field(seq, at, author, text, attachments, deleted_at)
  local flag = deleted_at and ('d' .. deleted_at) or (attachments and '1' or '0')
  return seq .. ' ' .. at .. ' ' .. author .. ' ' .. flag .. ' ' .. message_preview(text or '')
end

local function last_message_view(field)
  local seq, at, author, flag, text = string.match(field, '^(%d+) (%d+) (%a*) ([01d]%d*) (.*)$')
  if not seq then return nil end
  local deleted_at = string.sub(flag, 1, 1) == 'd' and tonumber(string.sub(flag, 2)) or nil
  return { seq = tonumber(seq), at = tonumber(at), author = author, text = text, attachment = flag == '1' or nil,
    deleted_at = deleted_at }
end

-- The view from the stored fields: numbers as numbers, unset optional fields left out.
local function view_of(v)
  local out = {}
  for _, f in ipairs(view_fields) do
    local name, kind, value = f[1], f[2], v[f[1]]
    if kind == 's' then out[name] = value or ''
    elseif kind == 'n' then out[name] = tonumber(value or '0') or 0
    elseif kind == 'b' then out[name] = value == '1' or nil
    elseif kind == 'on' then out[name] = tonumber(value or '')
    else out[name] = value end
  end
  out.customer_name = v.customer_name
  return out
end

-- The conversation as a list shows it: the view and its newest message.
local last_message_name = { 'last_message' }
local function conv_view(id)
  local v = conv_state(id, nil, last_message_name)
  local out = view_of(v)
  if v.last_message then out.last_message = last_message_view(v.last_message) end
  return out
end

-- JSON text of a string. cjson.encode costs about a microsecond a call; most
-- values (ids, statuses) need no escaping and are quoted as they are.
local function json_string(s)
  if string.find(s, '[%c"\\]') then return cjson.encode(s) end
  return '"' .. s .. '"'
end

-- Event frames for every gateway instance: "header\nframe" pairs. A script
-- that handles many messages (ingest) sets `call.events` to a table and
-- publishes them together, the pairs joined by newlines (frames and headers
-- are one-line JSON); live_hub::dispatch reads either.
local function publish_event(header, frame)
  local events = call.events
  if events then
    -- Kept apart: joining them here would copy the frame once more.
    events[#events + 1] = header
    events[#events + 1] = frame
  else
    redis.call('PUBLISH', p .. 'events', header .. '\n' .. frame)
  end
end

-- The header of delivery events (a message's status; not in the log: seq 0)
-- for the consoles that see the conversation; publish_event sends them.
local function delivery_header(conv)
  local h = redis.call('HMGET', conv_key(conv), 'team', 'customer_id', 'assignee')
  return cjson.encode({ team = h[1], conv = conv, customer = h[2], seq = 0, assignee = h[3] or '' })
end

-- Header members naming the team and assignee the conversation had before
-- the event (the event's from_team, previous_assignee), where they differ
-- from `v` (a transfer, an unassign): the consoles routed by those hear that
-- it left them.
local function previous_route(fields, v)
  local out = ''
  local team, assignee = fields.from_team or '', fields.previous_assignee or ''
  if team ~= '' and team ~= (v.team or '') then out = ',"from_team":' .. json_string(team) end
  if assignee ~= '' and assignee ~= (v.assignee or '') then
    out = out .. ',"previous_assignee":' .. json_string(assignee)
  end
  return out
end

-- An inbound message as JSON text: the caller's message fields
-- (`message_json`, an object) with the stored ones spliced in, no re-encoding.
local function inbound_message(message_json, conv, seq, author, channel, now)
  return string.sub(message_json, 1, -2) .. ',"id":' .. json_string(conv .. ':' .. seq) .. ',"conversation_id":' ..
    json_string(conv) .. ',"seq":' .. seq .. ',"direction":"in","author":"' .. author .. '","channel":' ..
    json_string(channel) .. ',"created_at":' .. now .. ',"status":"delivered"}'
end

-- Appends one event frame to the conversation log (stream id = seq, so
-- "everything after N" is an XRANGE) and publishes it to every instance.
-- `body` is the rest of the frame as JSON members ('"message":{...}'), `v`
-- the conversation's state after the change (conv_state), `fields` the
-- event's fields when it may have moved the conversation. Returns v.
local function emit_json(conv, seq, event, body, customer, v, fields)
  v = v or conv_state(conv)
  seq = tostring(seq)  -- once: a number would be formatted again at every use
  local frame = '{"type":"event","conv":' .. json_string(conv) .. ',"seq":' .. seq .. ',"event":"' .. event ..
    '","conversation":' .. cjson.encode(view_of(v)) .. (body ~= '' and (',' .. body) or '') .. '}'
  redis.call('XADD', conv_key(conv) .. ':log', seq .. '-1', 'f', frame)
  -- For the search indexer (routing/src/search_service.cpp), which reads the
  -- text of messages and notes only. NX: a conversation keeps its place in
  -- line while it waits.
  if event == 'message' or event == 'note' then
    redis.call('ZADD', p .. 'search:dirty', 'NX', tonumber(v.updated_at) or 0, conv)
  end
  -- Words landing in a finished conversation whose texts retention already
  -- removed (a follow-up on a resolved one, a rating's comment, a bounce):
  -- the sweep passed its resolve in rpt:events and would never come back, so
  -- it is due again a period after this (erase.lua 'retain'; with retention
  -- off the sweep empties the set: retention_sweep.cpp).
  if v.scrubbed_seq and (v.status == 'resolved' or v.status == 'closed') then
    local at = math.max(tonumber(v.updated_at) or 0, tonumber(fields and fields.at) or 0)
    redis.call('ZADD', p .. 'retention:due', at, conv)
  end
  -- The reports' activity index: one member per conversation and UTC day with
  -- a message, so a report finds the replies in conversations opened long
  -- before its period (by day, not by last activity: an old period still
  -- reads only what was active then). A conversation's first message is
  -- in rpt:created (below), which the report reads too.
  if event == 'message' and seq ~= '1' then
    local day = math.floor((tonumber(v.updated_at) or 0) / 86400000)
    redis.call('ZADD', p .. 'rpt:active', day * 86400000, conv .. '|' .. day)
  end
  -- The reports' time index (gateway/src/reports_api.cpp rebuilds it from the logs).
  if seq == '1' and v.created_at then redis.call('ZADD', p .. 'rpt:created', v.created_at, conv) end
  local header = '{"team":' .. json_string(v.team or '') .. ',"conv":' .. json_string(conv) .. ',"customer":' ..
    json_string(customer or v.customer_id or '') .. ',"seq":' .. seq .. ',"assignee":' .. json_string(v.assignee or '') ..
    (fields and previous_route(fields, v) or '') .. '}'
  publish_event(header, frame)
  return v
end

-- The same with the rest of the frame as a table. Resolves and ratings go
-- into the reports' time index by when they happened. A routing change names
-- where the conversation was (`from_team`, `previous_assignee`).
local function emit(conv, seq, event, fields, customer)
  if fields.at and (event == 'csat' or (event == 'status' and (fields.status == 'resolved' or fields.status == 'closed'))) then
    redis.call('ZADD', p .. 'rpt:events', fields.at, conv .. '|' .. fields.at)
  end
  local body = next(fields) and string.sub(cjson.encode(fields), 2, -2) or ''
  return emit_json(conv, seq, event, body, customer, nil, fields)
end

-- Stream entry ids ("<ms>-<n>") in order: whether `a` comes before `b`.
local function stream_id_before(a, b)
  local adash, bdash = string.find(a, '-', 1, true), string.find(b, '-', 1, true)
  local am, bm = tonumber(string.sub(a, 1, adash - 1)), tonumber(string.sub(b, 1, bdash - 1))
  return am < bm or (am == bm and tonumber(string.sub(a, adash + 1)) < tonumber(string.sub(b, bdash + 1)))
end

-- Queues `out` (an outbound message) in the channel's outbox. Its entry id
-- also joins its chat's order, <outbox>:chat:<chat> (the chat as the outbox
-- worker keys it: the recipient, else the conversation): whichever gateway
-- holds an entry sends it only once it heads that list (outbox_turn.lua),
-- and its outcome takes it off (delivery.lua), so a customer gets the
-- replies in order even when several gateways send them.
local function queue_outbound(channel, out)
  local key = p .. 'outbox:' .. channel
  local id = redis.call('XADD', key, '*', 'm', cjson.encode(out))
  local chat = (out.recipient and out.recipient ~= '') and out.recipient or out.conversation_id
  redis.call('RPUSH', key .. ':chat:' .. chat, id)
end

-- Renews this consumer's hold on a pending outbox entry (XCLAIM to itself
-- resets its idle time, so no other instance reclaims it); false when it is
-- another consumer's now, or no longer pending.
local function renew_hold(key, group, me, id)
  local pending = redis.call('XPENDING', key, group, id, id, 1)
  if not (pending[1] and pending[1][2] == me) then return false end
  redis.call('XCLAIM', key, group, me, 0, id, 'JUSTID')
  return true
end

-- A chat's pacing, shared by every instance: <outbox>:pace:<chat> holds when
-- the chat's bucket is full again (GCRA's theoretical arrival time, in ms on
-- Redis's clock, the one clock all instances share), and lapses then. Only
-- the head of the chat's order sends (outbox_turn.lua), so these two steps
-- are all that touch it: the turn takes the next slot, the outcome moves it
-- on to count from when the provider answered.
local function redis_now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function set_pace(key, tat, now)
  redis.call('SET', key, tat, 'PX', math.max(1, tat - now))
end

-- The send about to go, `after` ms from now (0 if nil), takes the next slot
-- of a bucket (`interval` ms each, up to `tolerance` ms early: a burst): the
-- chat's, or the channel's account limit (<outbox>:pace, the same rule).
-- A bucket without a limit (interval 0) counts nothing, but still holds the
-- send back while a provider's pause lasts (outbox_pause.lua).
-- Answers how long from now to wait for it (ms), at least `after`.
local function take_pace(key, interval, tolerance, after)
  after = after or 0
  if key == '' then return after end
  local now = redis_now_ms()
  local tat = math.max(tonumber(redis.call('GET', key) or '0'), now + after)
  if interval <= 0 then return tat - now end
  set_pace(key, tat + interval, now)
  return math.max(after, tat - tolerance - now)
end

-- The send is done: its slot counts from the provider's answer (the provider
-- counts when it received it, which a slow answer, a split text's later
-- parts or a send held back after its turn made later than the slot taken).
-- Also a provider's pause (outbox_pause.lua): no send before `interval` ms
-- from now; never moved back.
local function pace_from_answer(key, interval)
  if key == '' or interval <= 0 then return end
  local now = redis_now_ms()
  local tat = math.max(tonumber(redis.call('GET', key) or '0'), now + interval)
  set_pace(key, tat, now)
end

-- Until when a gateway sends on each channel (channel_servers.lua):
-- channels:served_until, channel → the latest end of its gateways' beats (ms
-- on Redis's clock), each renewed every few seconds while its gateway runs.
local function served_until_key() return p .. 'channels:served_until' end

-- Whether a gateway sends on `channel` now: this one (`here`: its channel
-- ids, comma-joined) or a live one elsewhere. Gateways of a rolling deploy
-- differ in configuration; a reply is refused only when none sends it.
local function channel_served(channel, here)
  for id in string.gmatch(here or '', '[^,]+') do
    if id == channel then return true end
  end
  return (tonumber(redis.call('HGET', served_until_key(), channel) or '') or 0) > redis_now_ms()
end

-- Something went to the customer on this channel: after a CSAT rating their
-- next text is taken as its comment (aftersales.lua, which keeps
-- csat:comment after sending its thanks) only while nothing else (an agent's
-- reply, a campaign message) came since, else it answers that.
local function sent_to_customer(cust, channel)
  if cust then redis.call('DEL', p .. 'csat:comment:' .. cust .. ':' .. channel) end
end

-- The client id of a console command (a reply, a note, a label change), so
-- that a resend gets the first answer (conv:<id>:clients, id → seq). Kept a
-- week after the conversation's last one: the console resends what it saw
-- no ack for when it reconnects, within the agent's session (hours); a
-- conversation nobody writes in any more does not keep its ids for ever.
local client_ids_ttl_s = 7 * 24 * 3600
local function remember_client_id(vkey, client_id, seq)
  if client_id == '' then return end
  redis.call('HSET', vkey .. ':clients', client_id, seq)
  redis.call('EXPIRE', vkey .. ':clients', client_ids_ttl_s)
end

-- Appends an outbound message (agent, bot or system) and queues it in the
-- channel's outbox. `buttons` is a Lua array of {id=, title=} or nil.
-- `extra`: more fields of the outbox entry (a WhatsApp template: template_name, template_language).
local function append_outbound(conv, author, author_id, author_name, client_id, text, now, automatic, buttons, extra)
  local vkey = conv_key(conv)
  local h = redis.call('HMGET', vkey, 'team', 'channel', 'status', 'customer_id')
  local team, channel = h[1], h[2]
  local seq = redis.call('HINCRBY', vkey, 'seq', 1)
  redis.call('HSET', vkey, 'updated_at', now, 'last_message', last_message_field(seq, now, author, text, false))
  sent_to_customer(h[4], channel)
  -- A message on a resolved conversation (a survey, a follow-up) leaves it resolved.
  if h[3] ~= 'resolved' and h[3] ~= 'closed' then redis.call('ZADD', p .. 'team:' .. team .. ':open', now, conv) end
  remember_client_id(vkey, client_id, seq)
  local msg = { id = conv .. ':' .. seq, conversation_id = conv, seq = seq, direction = 'out', author = author,
    author_id = author_id, author_name = author_name, text = text, channel = channel, created_at = now,
    status = 'pending' }
  if client_id ~= '' then msg.client_id = client_id end
  if buttons and #buttons > 0 then msg.buttons = buttons end
  emit(conv, seq, 'message', { message = msg })
  local out = { message_id = msg.id, conversation_id = conv, seq = seq, channel = channel,
    kind = redis.call('HGET', vkey, 'kind'), recipient = redis.call('HGET', vkey, 'recipient') or '',
    text = text, automatic = automatic }
  if buttons and #buttons > 0 then out.buttons = buttons end
  for k, v in pairs(extra or {}) do out[k] = v end
  queue_outbound(channel, out)
  return seq
end

-- A queued conversation whose team rules have not been applied yet waits in
-- routing:unrouted, not in a team's queue, so that no drain assigns it
-- before route.lua decides (the caller routes it right after this script).
-- The score is when the timer loop routes it instead: a gateway that died
-- in between leaves it there (tick.lua, routing_service::route_unrouted).
local UNROUTED_GRACE_MS = 10000
local function await_routing(conv, now)
  redis.call('ZADD', p .. 'routing:unrouted', now + UNROUTED_GRACE_MS, conv)
end

-- It waits for routing no longer: routed, or in a team's queue (back there
-- after an agent had it): the sweep must not route it a second time.
local function stop_awaiting_routing(conv)
  redis.call('ZREM', p .. 'routing:unrouted', conv)
end

-- Handed to people (the bot's handoff): in its team's queue once its team
-- rules were applied, else waiting for them.
local function wait_for_people(conv, now)
  local vkey = conv_key(conv)
  if redis.call('HGET', vkey, 'routed') == '1' then
    redis.call('ZADD', p .. 'queue:' .. redis.call('HGET', vkey, 'team'), now, conv)
  else
    await_routing(conv, now)
  end
end

-- Moves the conversation to `new_status` and logs the change as an event. A
-- conversation moved to 'queued' is put in line by the caller
-- (wait_for_people, or enqueue in routing_lib).
local function change_status(conv, new_status, actor, now, extra)
  local vkey = conv_key(conv)
  local old = redis.call('HGET', vkey, 'status')
  local team, channel, cust = redis.call('HGET', vkey, 'team'), redis.call('HGET', vkey, 'channel'),
    redis.call('HGET', vkey, 'customer_id')
  redis.call('HSET', vkey, 'status', new_status, 'updated_at', now)
  if new_status == 'resolved' or new_status == 'closed' then
    redis.call('HSET', vkey, 'resolved_at', now)
    redis.call('ZREM', p .. 'queue:' .. team, conv)
    redis.call('ZREM', p .. 'team:' .. team .. ':open', conv)
    -- The next customer message opens a new conversation.
    local open_key = p .. 'cust:' .. cust .. ':open:' .. channel
    if redis.call('GET', open_key) == conv then redis.call('DEL', open_key) end
  end
  local seq = redis.call('HINCRBY', vkey, 'seq', 1)
  local fields = { status = new_status, from = old, actor = actor, at = now }
  for k, v in pairs(extra or {}) do fields[k] = v end
  emit(conv, seq, 'status', fields)
  return seq
end

-- Customer keys and merge suggestions (issue 8, the customer file).
-- A verified key ('email:<addr>', 'phone:<digits>', normalised by
-- routing/src/customer_keys.cpp) names one customer: key:<key> -> id, and the
-- file's own set cust:<id>:keys. Weaker evidence only suggests a merge: a
-- hash on both files (other id -> JSON reason), shown in the console's
-- customer panel until an agent merges or dismisses (cust:<id>:suggest_no).

local function has_identity_on(cust, channel)
  for _, f in ipairs(redis.call('HKEYS', p .. 'cust:' .. cust .. ':identities')) do
    if string.sub(f, 1, #channel + 1) == channel .. ':' then return true end
  end
  return false
end

local function suggest_merge(a, b, reason, value, now)
  if not a or not b or a == b then return false end
  local ka, kb = p .. 'cust:' .. a, p .. 'cust:' .. b
  if redis.call('SISMEMBER', ka .. ':suggest_no', b) == 1 then return false end
  if redis.call('HEXISTS', ka, 'merged_into') == 1 or redis.call('HEXISTS', kb, 'merged_into') == 1 then return false end
  local s = cjson.encode({ reason = reason, value = value, at = tonumber(now) })
  redis.call('HSETNX', ka .. ':suggest', b, s)
  redis.call('HSETNX', kb .. ':suggest', a, s)
  return true
end

-- A provider event's dedup key (dedup:<channel>:<key>) and what it holds
-- (false: not seen yet); nil and false for an event without one.
local function dedup_of(channel, dedup_key)
  if dedup_key == '' then return nil, false end
  local dkey = p .. 'dedup:' .. channel .. ':' .. dedup_key
  return dkey, redis.call('GET', dkey)
end

-- The message a messenger's provider id names (ingest.lua and delivery.lua
-- map the customer's and ours to "<conv>:<seq>"): its conversation and seq
-- as text, or nil when the id or the conversation is unknown.
local function message_by_provider_id(channel, provider_id)
  local ref = redis.call('GET', p .. 'provider_msg:' .. channel .. ':' .. provider_id)
  if not ref then return nil end
  local colon = string.find(ref, ':', 1, true)
  local conv = string.sub(ref, 1, colon - 1)
  if redis.call('EXISTS', conv_key(conv)) == 0 then return nil end
  return conv, string.sub(ref, colon + 1)
end

-- An Instagram or Messenger message unsent before it was stored (its webhook
-- handled at the same time as the unsend's, or failed and sent again later):
-- unsend_message.lua leaves this marker (deleted_at_ms), ingest.lua stores
-- the message without what the customer took back.
local function unsent_marker(channel, provider_id)
  return p .. 'unsent:' .. channel .. ':' .. provider_id
end

-- The search index (search.lua): a document's terms in search:terms
-- (space-separated), its postings in search:<kind>:<term> ('t' conversations,
-- 'c' customer files), every term in search:vocab.
local function search_term_key(kind, t) return p .. 'search:' .. kind .. ':' .. t end

-- The terms a document is indexed under: as stored, and as a set.
local function search_terms_of(member)
  local stored, set = redis.call('HGET', p .. 'search:terms', member), {}
  for t in string.gmatch(stored or '', '%S+') do set[t] = true end
  return stored, set
end

-- Takes `member` out of the set of each term in `gone` (an array); a term
-- nothing uses any more leaves the vocabulary too.
local function search_drop_terms(kind, member, gone)
  for _, t in ipairs(gone) do
    redis.call('ZREM', search_term_key(kind, t), member)
    if redis.call('EXISTS', search_term_key('t', t), search_term_key('c', t)) == 0 then
      redis.call('ZREM', p .. 'search:vocab', t)
    end
  end
end

-- True when no entry after `seq` is in the conversation's log.
local function log_ends_by(conv, seq)
  local last = redis.call('XREVRANGE', conv_key(conv) .. ':log', '+', '-', 'COUNT', 1)[1]
  return not last or tonumber(string.match(last[1], '^(%d+)')) <= tonumber(seq)
end

-- The document leaves the index, terms and postings (erase.lua).
local function search_forget(kind, member)
  local _, set = search_terms_of(member)
  local gone = {}
  for t in pairs(set) do gone[#gone + 1] = t end
  search_drop_terms(kind, member, gone)
  redis.call('HDEL', p .. 'search:terms', member)
end

-- The customer's name, identities or keys changed: the search indexer reads
-- the file again (scored by time, so a change during a pass is not lost).
local function search_customer_changed(cust, now)
  redis.call('ZADD', p .. 'search:dirty:cust', now, cust)
end

-- Whether `email` is proved the customer's: one of their file's keys (a mail
-- they sent, an import, a confirmed link), not only typed into a form.
local function email_proved(cust, email)
  if not email or email == '' then return false end
  return redis.call('SISMEMBER', p .. 'cust:' .. cust .. ':keys', 'email:' .. string.lower(email)) == 1
end

-- Puts a verified key on the customer; a key another file holds becomes a
-- suggestion ('same_email' / 'same_phone') instead. True when the file got
-- the key's email or phone field (search reads a known file again).
local function index_customer_key(cust, key, now)
  local kind, value = string.match(key, '^(%a+):(.+)$')
  if kind ~= 'email' and kind ~= 'phone' then return false end
  local holder = redis.call('GET', p .. 'key:' .. key)
  if holder and holder ~= cust then
    suggest_merge(cust, holder, 'same_' .. kind, value, now)
    return false
  end
  if not holder then redis.call('SET', p .. 'key:' .. key, cust) end
  redis.call('SADD', p .. 'cust:' .. cust .. ':keys', key)
  return redis.call('HSETNX', p .. 'cust:' .. cust, kind, value) == 1
end

-- A lease that one instance at a time holds in `key` (the routing timers,
-- the campaign loop, the retention sweep): each call of its holder renews it
-- for `ms`; another instance takes it once it lapses. True while `me` holds it.
local function hold_lease(key, me, ms)
  local holder = redis.call('GET', key)
  if holder and holder ~= me then return false end
  redis.call('SET', key, me, 'PX', ms)
  return true
end

-- The holder stops (a shutdown): the lease goes now, so another instance
-- takes over within its own tick rather than a lease's time later; only
-- while it still names `me` (it may have lapsed and been taken meanwhile).
local function release_lease(key, me)
  if redis.call('GET', key) == me then redis.call('DEL', key) end
end

-- Deletes Pasokh's stored copies among a message's attachments (att_ ids: a
-- mail's, email_inbound.cpp; a web chat upload's; a Messenger or Instagram
-- file's, meta_media.lua, whose bytes are a key of their own, :content).
-- Other messenger files stay with the provider.
-- Every key of one stored file: its hash, its bytes and a staged part
-- (gateway/src/attachment_blobs.cpp drop deletes the same).
local function drop_attachment(id)
  local key = p .. 'attachment:' .. id
  redis.call('DEL', key, key .. ':content', p .. 'attachment_part:' .. id)
end

local function drop_stored_copies(attachments)
  if type(attachments) ~= 'table' then return end
  for _, a in ipairs(attachments) do
    local ref = type(a) == 'table' and a.provider_ref
    if type(ref) == 'string' and string.sub(ref, 1, 4) == 'att_' then drop_attachment(ref) end
  end
end

-- A file its writer staged a chunk at a time (attachment_part:<id>,
-- gateway/src/attachment_blobs.cpp) is whole when it holds all its bytes.
local function staged_whole(id, size)
  return size == 0 or redis.call('STRLEN', p .. 'attachment_part:' .. id) == size
end

-- Makes a whole staged file attachment:<id> (a hash of `fields`) with its
-- bytes as attachment:<id>:content, both expiring after `ttl`. The bytes move
-- by RENAME: copying a file of many MB inside a script would stop Redis, and
-- every gateway's commands with it, for a while.
local function keep_staged(id, size, ttl, fields)
  local key = p .. 'attachment:' .. id
  if size > 0 then redis.call('RENAME', p .. 'attachment_part:' .. id, key .. ':content')
  else redis.call('SET', key .. ':content', '') end
  redis.call('HSET', key, unpack(fields))
  redis.call('EXPIRE', key, ttl)
  redis.call('EXPIRE', key .. ':content', ttl)
end

-- Queues a mail outside any conversation (a web chat code, a transcript):
-- no delivery record, no thread (email_channel.cpp). Its id is `kind` and a
-- number of its own (next:<kind>_mail).
local function queue_standalone_mail(kind, channel, to, subject, text)
  local id = kind .. ':' .. redis.call('INCR', p .. 'next:' .. kind .. '_mail')
  queue_outbound(channel, { message_id = id, conversation_id = '', seq = 0, channel = channel, kind = 'email',
    recipient = to, subject = subject, text = text, automatic = true })
end

-- A message the customer took back (an unsend, unsend_message.lua; or one
-- unsent before it came, ingest.lua): no text, files, button or quoted
-- original, and when it was unsent. Changes `m` in place.
local function take_back(m, deleted_at)
  m.text, m.deleted_at = '', deleted_at
  m.original_text, m.attachments, m.button_payload, m.edited_at = nil, nil, nil, nil
end

-- A conversation's log rewritten through a copy (a stream cannot be changed
-- in place) in bounded steps, so a long log never holds Redis for long:
-- each call copies at most `budget` entries after seq `at` into `copy`, each
-- frame through `change(seq, frame)` (the frame to keep). The copy replaces
-- the log in the call that reaches the log's end, entries logged meanwhile
-- included. Answers done, the seq read up to (the caller keeps it for its
-- next call) and the entries read. erase.lua's scrubs, unsend_message.lua.
local function rewrite_log_step(log, copy, at, budget, change)
  -- Progress without its copy (evicted, or deleted by another writer): renaming
  -- what is copied from here on would lose the entries before; start over.
  if at > 0 and redis.call('EXISTS', copy) == 0 then at = 0 end
  local entries = redis.call('XRANGE', log, '(' .. at .. '-1', '+', 'COUNT', budget)
  for _, e in ipairs(entries) do
    local seq = tonumber(string.match(e[1], '^(%d+)'))
    redis.call('XADD', copy, e[1], e[2][1], change(seq, e[2][2]))
    at = seq
  end
  if #entries == budget then return false, at, #entries end
  if redis.call('EXISTS', copy) == 1 then redis.call('RENAME', copy, log) end
  return true, at, #entries
end
