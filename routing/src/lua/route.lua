-- Routing after a customer message (or the bot's handoff), atomically.
-- ARGV: prefix, conv, now_ms, mode, then in mode '1' the caller's decision
-- (decision_args in routing_lib). Modes: '0' look and act; '1' apply the
-- decision to a conversation still waiting for one (anything else is left
-- as it is: it changed since the look); 'u' look, but act only on a
-- conversation waiting for routing (the sweep of routing:unrouted).
-- A new conversation of a channel without the bot is usually routed inside
-- ingest.lua already, with a decision made before the message was stored.
-- In mode '0' a resolved conversation the customer reopens needs the SLA of
-- its team from now (sla_args in routing_lib: ARGV[5] on).
-- Answers { outcome, ... }:
--   { 'facts', channel, team, tags, vip, language }: not routed yet; decide and call again
--   { 'sla_for', team }: a reopen; call again with the team's SLA from now
--   { 'queued' | 'assigned' | 'unchanged' | 'bot' | 'closed' | 'not_found', assignee }
local conv, now, mode = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local decided = mode == '1'
local vkey = conv_key(conv)
local h = redis.call('HMGET', vkey, 'status', 'routed', 'channel', 'team', 'topic_tags', 'customer_id', 'assignee')
local status = h[1]
if not status then return { 'not_found' } end
if status == 'bot' then return { 'bot' } end
if status == 'closed' then return { 'closed' } end
if mode ~= '0' and (status ~= 'queued' or h[2] == '1') then return { 'unchanged', h[7] or '' } end

if status == 'resolved' or status == 'snoozed' then
  -- The customer wrote again: a resolved conversation (within the reopen
  -- window, which kept it findable) reopens, its SLA counting again from
  -- now; a snoozed one wakes up (its SLA ran on).
  if status == 'resolved' then
    local ask = restart_sla(conv, 5, h[4], true)
    if ask then return ask end
  end
  customer_reopens(conv, h[4], p .. 'cust:' .. h[6] .. ':open:' .. h[3], now)
  route_back(conv, now, 'customer', status == 'resolved' and 'reopened_by_customer' or 'snooze_ended')
  return { redis.call('HGET', vkey, 'status'), redis.call('HGET', vkey, 'assignee') }
end

if status == 'assigned' then
  -- A returning customer is never stuck with an agent who is gone.
  local a = h[7] or ''
  if a ~= '' and agent_status(a, now) ~= 'offline' then return { 'unchanged', a } end
  local other = pick_agent(h[4], now, a)
  if other then
    assign_to(conv, other, now, 'system', 'assignee_offline', nil)
    return { 'assigned', other }
  end
  requeue(conv, a, now, 'system', { reason = 'assignee_offline' })
  return { 'queued', '' }
end

-- queued
if h[2] ~= '1' then
  if not decided then
    local c = redis.call('HMGET', p .. 'cust:' .. h[6], 'vip', 'language')
    return { 'facts', h[3], h[4], h[5] or '', c[1] or '0', c[2] or '' }
  end
  local status_after, assignee = apply_route(conv, now, decision_args(5))
  return { status_after, assignee }
end
enqueue(conv, now)
drain_team(h[4], now, 10)
return { redis.call('HGET', vkey, 'status'), redis.call('HGET', vkey, 'assignee') or '' }
