-- The routing timers. Every instance calls this often; one of them holds a
-- lease (renewed on each call, taken over when it lapses) and does the work,
-- and each due entry is taken (ZREM) inside this one atomic script anyway, so
-- nothing fires twice. ARGV: prefix, now_ms, limit, instance id, lease_ms,
-- and 'release' to only give the lease up (a shutdown: the next instance
-- takes over within its own tick; answers {}).
-- Handles: agents whose heartbeats ran out,
-- assigned conversations without an agent reply in time (offered to another
-- agent), customers waiting on an agent who went offline or away (the same),
-- snoozes that end, SLA warnings and breaches, bot conversations the
-- customer left, queued conversations left unrouted.
-- Answers { expired, reassigned, woken, sla_warnings, sla_breaches, leader,
-- bot_idle_resolved, unrouted conversation ids... }.
local now, limit, me, lease_ms = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
if ARGV[6] == 'release' then
  release_lease(p .. 'routing:timer_lease', me)
  return {}
end
local counts = { 0, 0, 0, 0, 0 }
if not hold_lease(p .. 'routing:timer_lease', me, lease_ms) then return { 0, 0, 0, 0, 0, 0, 0 } end

for _, a in ipairs(redis.call('ZRANGEBYSCORE', p .. 'presence', '-inf', now, 'LIMIT', 0, limit)) do
  expire_agent(a, now)
  counts[1] = counts[1] + 1
end

-- Armed at assignment, and when the customer writes to an assigned
-- conversation (ingest.lua); an agent's reply disarms it (append_reply.lua).
-- Not answered since assigned: offered to another agent of the team, even
-- from an online assignee. Answered before, the customer waiting since for
-- reassign_ms: moved on only from an assignee offline or away; an online one
-- keeps it, and it is looked at again while the customer waits.
local rkey = p .. 'timers:reassign'
local reassign_ms = setting('reassign_ms')
for _, conv in ipairs(redis.call('ZRANGEBYSCORE', rkey, '-inf', now, 'LIMIT', 0, limit)) do
  redis.call('ZREM', rkey, conv)
  local vkey = conv_key(conv)
  local h = redis.call('HMGET', vkey, 'status', 'assignee', 'assigned_at', 'last_agent_reply_at', 'team',
    'last_customer_message_at')
  local prev, prev_status, reason = h[2] or '', nil, nil
  if h[1] == 'assigned' then
    prev_status = prev ~= '' and agent_status(prev, now) or 'offline'
    local answered = tonumber(h[4] or '0') >= tonumber(h[3] or '0')
    -- The customer wrote last: their message waits for an agent's answer.
    local waiting_since = (tonumber(h[6] or '') or 0) > (tonumber(h[4] or '') or 0) and tonumber(h[6]) or nil
    if not answered then
      reason = 'no_reply'
    elseif waiting_since and prev_status ~= 'online' then
      if now - waiting_since >= reassign_ms then
        reason = 'assignee_' .. prev_status
      else
        redis.call('ZADD', rkey, waiting_since + reassign_ms, conv)
      end
    elseif waiting_since and reassign_ms > 0 then
      redis.call('ZADD', rkey, now + reassign_ms, conv)
    end
  end
  if reason then
    local other = pick_agent(h[5], now, prev)
    if other then
      assign_to(conv, other, now, 'system', reason, nil)
      counts[2] = counts[2] + 1
    elseif prev_status ~= 'online' then
      requeue(conv, prev, now, 'system', { reason = reason })
      counts[2] = counts[2] + 1
    else
      -- Nobody else can take it: it stays, and is offered again later.
      redis.call('ZADD', rkey, now + reassign_ms, conv)
    end
  end
end

local zkey = p .. 'timers:snooze'
for _, conv in ipairs(redis.call('ZRANGEBYSCORE', zkey, '-inf', now, 'LIMIT', 0, limit)) do
  redis.call('ZREM', zkey, conv)
  if redis.call('HGET', conv_key(conv), 'status') == 'snoozed' then
    redis.call('HDEL', conv_key(conv), 'snoozed_until')
    route_back(conv, now, 'system', 'snooze_ended')
    counts[3] = counts[3] + 1
  end
end

local tkey = p .. 'timers:sla'
for _, member in ipairs(redis.call('ZRANGEBYSCORE', tkey, '-inf', now, 'LIMIT', 0, limit)) do
  redis.call('ZREM', tkey, member)
  local bar = string.find(member, '|', 1, true)
  local kind, conv = string.sub(member, 1, bar - 1), string.sub(member, bar + 1)
  local vkey = conv_key(conv)
  local h = redis.call('HMGET', vkey, 'status', 'first_response_at', 'sla_first_due', 'sla_resolve_due')
  local which = string.sub(kind, 1, 5) == 'first' and 'first_response' or 'resolution'
  local state = string.find(kind, 'warn', 1, true) and 'warning' or 'breached'
  local done = h[1] == nil or h[1] == false or h[1] == 'resolved' or h[1] == 'closed' or
    (which == 'first_response' and h[2])
  if not done then
    if state == 'breached' then
      redis.call('HSET', vkey, 'sla_breached', '1')
      if h[1] == 'queued' then queue_again(conv, now) end
      counts[5] = counts[5] + 1
    else
      counts[4] = counts[4] + 1
    end
    redis.call('HINCRBY', p .. 'stats:sla', which .. '_' .. state, 1)
    local seq = redis.call('HINCRBY', vkey, 'seq', 1)
    emit(conv, seq, 'sla', { sla = which, state = state,
      due = tonumber(which == 'first_response' and h[3] or h[4]) or 0, at = now })
  end
end
-- A conversation with the bot and no customer message for bot_idle_ms ended
-- there: the bot resolves it (a deflection in the reports), so the
-- customer's next message after the reopen window opens a new one. Scored by
-- the last customer message (ingest.lua), so a handed-off conversation is
-- only dropped here. Without the setting (0: never) the entries are dropped.
local bkey, idle, bot_idle_resolved = p .. 'timers:bot_idle', setting('bot_idle_ms'), 0
if idle <= 0 then
  redis.call('ZREMRANGEBYRANK', bkey, 0, limit - 1)
else
  for _, conv in ipairs(redis.call('ZRANGEBYSCORE', bkey, '-inf', now - idle, 'LIMIT', 0, limit)) do
    redis.call('ZREM', bkey, conv)
    local h = redis.call('HMGET', conv_key(conv), 'status', 'assignee', 'team', 'customer_id', 'channel')
    if h[1] == 'bot' then
      redis.call('HSET', conv_key(conv), 'bot_idle', '1')
      resolve_conversation(conv, { assignee = h[2], team = h[3], customer_id = h[4], channel = h[5] }, 'bot', now,
        { reason = 'bot_idle' })
      bot_idle_resolved = bot_idle_resolved + 1
    end
  end
end

-- Conversations the team rules never reached (the gateway that stored them
-- died before routing): answered to the caller, which routes them; offered
-- again after the grace if that fails too.
local ukey = p .. 'routing:unrouted'
local unrouted = {}
for _, conv in ipairs(redis.call('ZRANGEBYSCORE', ukey, '-inf', now, 'LIMIT', 0, limit)) do
  local h = redis.call('HMGET', conv_key(conv), 'status', 'routed')
  if h[1] == 'queued' and h[2] ~= '1' then
    await_routing(conv, now)
    unrouted[#unrouted + 1] = conv
  else
    redis.call('ZREM', ukey, conv)
  end
end
counts[6] = 1
counts[7] = bot_idle_resolved
for _, conv in ipairs(unrouted) do counts[#counts + 1] = conv end
return counts
