-- Routing after a customer message (or the bot's handoff), atomically.
-- ARGV: prefix, conv, now_ms, decided ('0': only look; '1': the fields below
-- hold the caller's decision), team, priority, vip, sla_first_due,
-- sla_first_warn, sla_resolve_due, sla_resolve_warn (ms, 0 = none),
-- closed_text (auto message when the team is outside business hours, '' when
-- open), sticky ('1': a returning customer's previous agent first).
-- Answers { outcome, ... }:
--   { 'facts', channel, team, tags, vip, language }: not routed yet; decide and call again
--   { 'queued' | 'assigned' | 'unchanged' | 'bot' | 'closed' | 'not_found', assignee }
local conv, now, decided = ARGV[2], tonumber(ARGV[3]), ARGV[4] == '1'
local vkey = conv_key(conv)
local h = redis.call('HMGET', vkey, 'status', 'routed', 'channel', 'team', 'topic_tags', 'customer_id', 'assignee')
local status = h[1]
if not status then return { 'not_found' } end
if status == 'bot' then return { 'bot' } end
if status == 'closed' then return { 'closed' } end

if status == 'resolved' or status == 'snoozed' then
  -- The customer wrote again: a resolved conversation (within the reopen
  -- window, which kept it findable) reopens; a snoozed one wakes up.
  local open_key = p .. 'cust:' .. h[6] .. ':open:' .. h[3]
  if redis.call('GET', open_key) == conv then redis.call('PERSIST', open_key) end
  redis.call('ZADD', p .. 'team:' .. h[4] .. ':open', now, conv)
  redis.call('HDEL', vkey, 'resolved_at')
  clear_timers(conv)
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
  release(conv, a, now)
  redis.call('HSET', vkey, 'assignee', '')
  change_status(conv, 'queued', 'system', now, { reason = 'assignee_offline', previous_assignee = a })
  enqueue(conv, now)
  return { 'queued', '' }
end

-- queued
if h[2] ~= '1' then
  if not decided then
    local c = redis.call('HMGET', p .. 'cust:' .. h[6], 'vip', 'language')
    return { 'facts', h[3], h[4], h[5] or '', c[1] or '0', c[2] or '' }
  end
  local team, priority, vip = ARGV[5], ARGV[6], ARGV[7]
  local first_due, first_warn = tonumber(ARGV[8]), tonumber(ARGV[9])
  local resolve_due, resolve_warn = tonumber(ARGV[10]), tonumber(ARGV[11])
  local closed_text, sticky = ARGV[12], ARGV[13] == '1'
  redis.call('HSET', vkey, 'routed', '1', 'vip', vip)
  local old_team, old_priority = h[4], redis.call('HGET', vkey, 'priority') or 'normal'
  if team ~= '' and team ~= old_team then
    redis.call('ZREM', p .. 'queue:' .. old_team, conv)
    redis.call('ZREM', p .. 'team:' .. old_team .. ':open', conv)
    redis.call('HSET', vkey, 'team', team)
    redis.call('ZADD', p .. 'team:' .. team .. ':open', now, conv)
  else
    team = old_team
  end
  if priority == '' then priority = old_priority end
  redis.call('HSET', vkey, 'priority', priority)
  if team ~= old_team or priority ~= old_priority then
    local seq = redis.call('HINCRBY', vkey, 'seq', 1)
    emit(conv, seq, 'routed', { team = team, from_team = old_team, priority = priority, vip = vip == '1', at = now })
  end
  local tkey = p .. 'timers:sla'
  if first_due > 0 then
    redis.call('HSET', vkey, 'sla_first_due', first_due)
    redis.call('ZADD', tkey, first_due, 'first_breach|' .. conv)
    if first_warn > 0 and first_warn < first_due then redis.call('ZADD', tkey, first_warn, 'first_warn|' .. conv) end
  end
  if resolve_due > 0 then
    redis.call('HSET', vkey, 'sla_resolve_due', resolve_due)
    redis.call('ZADD', tkey, resolve_due, 'resolve_breach|' .. conv)
    if resolve_warn > 0 and resolve_warn < resolve_due then redis.call('ZADD', tkey, resolve_warn, 'resolve_warn|' .. conv) end
  end
  if closed_text ~= '' and not redis.call('HGET', vkey, 'closed_notice_at') then
    redis.call('HSET', vkey, 'closed_notice_at', now)
    append_outbound(conv, 'system', '', '', '', closed_text, now, true, nil)
  end
  h[4] = team
  if sticky then
    local last = redis.call('HGET', p .. 'cust:' .. h[6], 'last_agent')
    if last and agent_eligible(last, now) then
      assign_to(conv, last, now, 'system', 'returning_customer', nil)
      return { 'assigned', last }
    end
  end
end
enqueue(conv, now)
drain_team(h[4], now, 10)
return { redis.call('HGET', vkey, 'status'), redis.call('HGET', vkey, 'assignee') or '' }
