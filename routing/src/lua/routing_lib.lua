-- Routing helpers (presence, load, queues, assignment), loaded after the
-- prelude into the script library. Keys (all under the prefix):
--   agent:<id>              hash: ..., capacity, teams (comma list; else team), availability (online|away)
--   agent:<id>:convs        set: conversations assigned to the agent and still open (its load)
--   presence:<id>           zset: WebSocket session -> expiry ms (heartbeats)
--   presence                zset: agent -> latest session expiry ms (alive agents)
--   team:<t>:avail          zset: ONLINE agents of team t with free capacity, by the
--                           team's strategy score (lowest first)
--   team_strategy           hash: team -> round_robin | least_loaded
--   queue:<t>               zset: waiting conversations, lowest score first
--   routing:unrouted        zset: queued conversations the team rules have not
--                           reached yet -> when the timer loop routes them (ms)
--   timers:reassign / timers:snooze / timers:sla   zsets: deadlines (ms)
--   timers:bot_idle         zset: conversations with the bot -> the customer's
--                           last message (ms); due bot_idle_ms later (tick.lua)
--   routing:settings        hash: reassign_ms, reopen_ms, bot_idle_ms, grace_ms
local PRIORITY_RANK = { low = -1, normal = 0, high = 1, urgent = 2 }
local PRIORITY_UP = { low = 'normal', normal = 'high', high = 'urgent' }

local function setting(name)
  if not call.settings then
    local h = redis.call('HGETALL', p .. 'routing:settings')
    call.settings = {}
    for i = 1, #h, 2 do call.settings[h[i]] = tonumber(h[i + 1]) end
  end
  return call.settings[name] or 0
end

local function agent_key(a) return p .. 'agent:' .. a end

local function agent_teams(a)
  local h = redis.call('HMGET', agent_key(a), 'teams', 'team')
  local list = h[1] or h[2] or ''
  local out = {}
  for t in string.gmatch(list, '[^,]+') do out[#out + 1] = t end
  return out
end

local function agent_load(a) return redis.call('SCARD', agent_key(a) .. ':convs') end

local function agent_alive(a, now)
  local exp = redis.call('ZSCORE', p .. 'presence', a)
  return exp ~= false and tonumber(exp) > now
end

-- online | away | offline
local function agent_status(a, now)
  if not agent_alive(a, now) then return 'offline' end
  return redis.call('HGET', agent_key(a), 'availability') or 'away'
end

-- Agents of the team with a console open (webchat:online:<t>: "<instance>|<agent>"
-- by last heartbeat, since `since`) who are online, not away: routing gives
-- work only to them, so a web chat customer hears "no agent online" otherwise.
local function webchat_agents_online(t, since, now)
  local counted, n = {}, 0
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', p .. 'webchat:online:' .. t, since, '+inf')) do
    local a = string.match(member, '|(.+)$')
    if a and not counted[a] then
      counted[a] = true
      if agent_status(a, now) == 'online' then n = n + 1 end
    end
  end
  return n
end

-- Online, with free capacity.
local function agent_eligible(a, now)
  local h = redis.call('HMGET', agent_key(a), 'capacity', 'availability')
  return h[2] == 'online' and agent_alive(a, now) and agent_load(a) < (tonumber(h[1] or '0') or 0)
end

local function team_strategy(t) return redis.call('HGET', p .. 'team_strategy', t) or 'least_loaded' end

-- Lowest first. Round robin: whoever was assigned least recently. Least
-- loaded: fewest open conversations, ties to whoever waited longest. `turn`
-- is the agent's place in the global assignment order (a counter: many
-- assignments fall in one millisecond).
local function avail_score(t, load, turn)
  if team_strategy(t) == 'round_robin' then return turn end
  return load + turn / 1e12
end

-- Puts the agent into (or takes it out of) its teams' availability sets:
-- in when online with free capacity. Returns true when the agent can take work.
local function index_agent(a, now)
  local h = redis.call('HMGET', agent_key(a), 'capacity', 'assign_turn', 'id')
  if not h[3] then return false end
  local load = agent_load(a)
  local ok = load < (tonumber(h[1] or '0') or 0) and agent_status(a, now) == 'online'
  local last = tonumber(h[2] or '0') or 0
  for _, t in ipairs(agent_teams(a)) do
    if ok then
      redis.call('ZADD', p .. 'team:' .. t .. ':avail', avail_score(t, load, last), a)
    else
      redis.call('ZREM', p .. 'team:' .. t .. ':avail', a)
    end
  end
  return ok
end

local function publish_presence(a, now)
  local h = redis.call('HMGET', agent_key(a), 'name', 'capacity')
  local frame = cjson.encode({ type = 'presence', agent = a, name = h[1] or '', status = agent_status(a, now),
    load = agent_load(a), capacity = tonumber(h[2] or '0') or 0, at = now })
  for _, t in ipairs(agent_teams(a)) do
    publish_event(cjson.encode({ team = t, conv = '', customer = '', seq = 0, assignee = '' }), frame)
  end
end

-- Why agent `a` may not take a conversation now (agent_offline, agent_away,
-- agent_full; `force`, an admin's: away or full is no reason), else nil.
local function take_refusal(a, now, force)
  local st = agent_status(a, now)
  if st == 'offline' then return 'agent_offline' end
  if force then return nil end
  if st ~= 'online' then return 'agent_away' end
  local cap = tonumber(redis.call('HGET', agent_key(a), 'capacity') or '0') or 0
  if agent_load(a) >= cap then return 'agent_full' end
  return nil
end

-- The agent's display name for a refusal's message (its id when it has none).
local function agent_name(a) return redis.call('HGET', agent_key(a), 'name') or a end

-- The agent's heartbeats ran out (or its last session closed long enough ago).
local function expire_agent(a, now)
  redis.call('ZREMRANGEBYSCORE', p .. 'presence:' .. a, '-inf', now)
  local last = redis.call('ZRANGE', p .. 'presence:' .. a, -1, -1, 'WITHSCORES')
  if last[1] then
    redis.call('ZADD', p .. 'presence', last[2], a)
  else
    redis.call('ZREM', p .. 'presence', a)
  end
  index_agent(a, now)
  publish_presence(a, now)
end

-- Priority order of a queue: urgent, then VIP/high; an SLA breach lifts a
-- conversation two ranks; then oldest first (by when it first waited).
local function score_of(priority, vip, breached, since)
  local rank = PRIORITY_RANK[priority or 'normal'] or 0
  if vip == '1' and rank < 1 then rank = 1 end
  if breached == '1' then rank = rank + 2 end
  return since - rank * 1e12
end

local function queue_score(vkey, now)
  local h = redis.call('HMGET', vkey, 'priority', 'vip', 'sla_breached', 'queued_at')
  return score_of(h[1], h[2], h[3], tonumber(h[4] or '') or now)
end

-- Into (or up or down in) its team's queue, its one place while it waits: a
-- conversation the rules never reached (an agent took it first) leaves
-- routing:unrouted, so a drain and the sweep cannot both act on it; the
-- rules reach it when its customer writes again (route.lua).
local function enqueue(conv, now)
  local vkey = conv_key(conv)
  if not redis.call('HGET', vkey, 'queued_at') then redis.call('HSET', vkey, 'queued_at', now) end
  redis.call('ZADD', p .. 'queue:' .. redis.call('HGET', vkey, 'team'), queue_score(vkey, now), conv)
  stop_awaiting_routing(conv)
end

-- Its place in its team's queue again after its priority or SLA breach
-- changed. One the team rules have not reached yet (just stored: its gateway
-- routes it within the grace, the sweep after it) stays in routing:unrouted:
-- queued now, it would wait in the channel's team with the rules never
-- applied; its route (apply_route) queues it where they put it, by the same score.
local function queue_again(conv, now)
  if redis.call('ZSCORE', p .. 'routing:unrouted', conv) then return end
  enqueue(conv, now)
end

-- The first eligible agent of the team (skipping `exclude`); agents whose
-- heartbeats ran out are found here too and marked offline.
local function pick_agent(t, now, exclude)
  local key = p .. 'team:' .. t .. ':avail'
  for _ = 1, 50 do
    local first = redis.call('ZRANGE', key, 0, 1)
    local a = first[1]
    if a == exclude then a = first[2] end
    if not a then return nil end
    if agent_alive(a, now) then return a end
    expire_agent(a, now)
  end
  return nil
end

-- The conversation no longer counts on the agent's load.
local function release(conv, a, now)
  if not a or a == '' then return end
  if redis.call('SREM', agent_key(a) .. ':convs', conv) == 1 then index_agent(a, now) end
end

-- The agent took a conversation: to the back of its teams' round-robin
-- turns, and the customer's agent for sticky routing next time.
local function note_assignment(a, customer, now)
  redis.call('HSET', agent_key(a), 'last_assigned_at', now, 'assign_turn', redis.call('INCR', p .. 'assign_turn'))
  if customer then redis.call('HSET', p .. 'cust:' .. customer, 'last_agent', a) end
end

local function assign_to(conv, a, now, actor, reason, extra)
  local vkey = conv_key(conv)
  local h = redis.call('HMGET', vkey, 'assignee', 'team', 'customer_id', 'last_agent_reply_at')
  local prev = h[1] or ''
  if prev ~= '' and prev ~= a then release(conv, prev, now) end
  redis.call('ZREM', p .. 'queue:' .. h[2], conv)
  redis.call('SADD', agent_key(a) .. ':convs', conv)
  note_assignment(a, h[3], now)
  index_agent(a, now)
  redis.call('HSET', vkey, 'assignee', a, 'assigned_at', now)
  redis.call('HDEL', vkey, 'snoozed_until')
  local reassign = setting('reassign_ms')
  if reassign > 0 then redis.call('ZADD', p .. 'timers:reassign', now + reassign, conv) end
  local fields = { assignee = a, previous_assignee = prev, reason = reason }
  for k, v in pairs(extra or {}) do fields[k] = v end
  return change_status(conv, 'assigned', actor, now, fields)
end

-- Assigns waiting conversations, the best across `teams` first, while the
-- team of the best one has an eligible agent.
local function drain(teams, now, limit)
  local n = 0
  while n < limit do
    local best, best_score, best_team
    for _, t in ipairs(teams) do
      local head = redis.call('ZRANGE', p .. 'queue:' .. t, 0, 0, 'WITHSCORES')
      if head[1] and (not best or tonumber(head[2]) < best_score) then
        best, best_score, best_team = head[1], tonumber(head[2]), t
      end
    end
    if not best then break end
    if redis.call('HGET', conv_key(best), 'status') ~= 'queued' then
      redis.call('ZREM', p .. 'queue:' .. best_team, best)
    else
      local pick = pick_agent(best_team, now, nil)
      if not pick then break end
      assign_to(best, pick, now, 'system', 'queue', nil)
      n = n + 1
    end
  end
  return n
end

-- The team's queue, best first.
local function drain_team(t, now, limit)
  -- Nobody free (the usual case when a queue grows): nothing to look at.
  if not redis.call('ZRANGE', p .. 'team:' .. t .. ':avail', 0, 0)[1] then return 0 end
  return drain({ t }, now, limit)
end

-- An agent came online or freed capacity: its teams' queues drain to it.
local function drain_agent(a, now, limit) return drain(agent_teams(a), now, limit) end

-- Back into its team's queue, unassigned; `fields` (reason, ...) go on the
-- status event with the previous assignee. Answers the event's seq.
local function requeue(conv, prev, now, actor, fields)
  release(conv, prev, now)
  redis.call('HSET', conv_key(conv), 'assignee', '')
  fields.previous_assignee = prev
  local seq = change_status(conv, 'queued', actor, now, fields)
  enqueue(conv, now)
  return seq
end

-- Back to work (snooze ended, reopened): to the previous agent when online
-- with room, otherwise into the queue.
local function route_back(conv, now, actor, reason)
  local vkey = conv_key(conv)
  local h = redis.call('HMGET', vkey, 'assignee', 'team')
  local prev = h[1] or ''
  release(conv, prev, now)
  if prev ~= '' and agent_eligible(prev, now) then
    return assign_to(conv, prev, now, actor, reason, nil)
  end
  local seq = requeue(conv, prev, now, actor, { reason = reason })
  drain_team(h[2], now, 10)
  return seq
end

local function clear_timers(conv)
  redis.call('ZREM', p .. 'timers:reassign', conv)
  redis.call('ZREM', p .. 'timers:snooze', conv)
end

local function clear_sla_timers(conv)
  redis.call('ZREM', p .. 'timers:sla', 'first_warn|' .. conv, 'first_breach|' .. conv, 'resolve_warn|' .. conv,
    'resolve_breach|' .. conv)
end

-- The SLA due times `s` (first_due, first_warn, resolve_due, resolve_warn:
-- ms, 0 = none) on the conversation, and their timers.
local function arm_sla(conv, s)
  local vkey, tkey = conv_key(conv), p .. 'timers:sla'
  if s.first_due > 0 then
    redis.call('HSET', vkey, 'sla_first_due', s.first_due)
    redis.call('ZADD', tkey, s.first_due, 'first_breach|' .. conv)
    if s.first_warn > 0 and s.first_warn < s.first_due then redis.call('ZADD', tkey, s.first_warn, 'first_warn|' .. conv) end
  end
  if s.resolve_due > 0 then
    redis.call('HSET', vkey, 'sla_resolve_due', s.resolve_due)
    redis.call('ZADD', tkey, s.resolve_due, 'resolve_breach|' .. conv)
    if s.resolve_warn > 0 and s.resolve_warn < s.resolve_due then
      redis.call('ZADD', tkey, s.resolve_warn, 'resolve_warn|' .. conv)
    end
  end
end

-- The SLA of a team, computed by the caller (business hours) for `now`, from
-- ARGV[i] on: team, first_due, first_warn, resolve_due, resolve_warn. Nil
-- when none was given for `team` (the caller asks again with it: 'sla_for').
local function sla_args(i, team)
  if ARGV[i] ~= team then return nil end
  return { first_due = tonumber(ARGV[i + 1]) or 0, first_warn = tonumber(ARGV[i + 2]) or 0,
    resolve_due = tonumber(ARGV[i + 3]) or 0, resolve_warn = tonumber(ARGV[i + 4]) or 0 }
end

-- A new SLA segment (reopened after a resolve, or moved to another team): the
-- old due times, timers and breach (its badge, its queue boost) are gone and
-- `team`'s SLA (sla_args from ARGV[i]) counts from now. `new_contact`: the
-- first response is owed again. Changes nothing and answers {'sla_for', team}
-- when the caller gave no SLA for `team` (it asks again with one).
local function restart_sla(conv, i, team, new_contact)
  local s = sla_args(i, team)
  if not s then return { 'sla_for', team } end
  clear_sla_timers(conv)
  local gone = { 'sla_breached', 'sla_first_due', 'sla_resolve_due' }
  if new_contact then gone[#gone + 1] = 'first_response_at' end
  redis.call('HDEL', conv_key(conv), unpack(gone))
  arm_sla(conv, s)
  return nil
end

-- The conversation is done (resolved, or closed as a side conversation):
-- its agent gets the capacity back, and no queue or timer acts on it again.
local function leave_routing(conv, assignee, team, now)
  release(conv, assignee, now)
  clear_timers(conv)
  redis.call('ZREM', p .. 'queue:' .. team, conv)
  clear_sla_timers(conv)
  redis.call('HDEL', conv_key(conv), 'queued_at')
end

-- A resolved or snoozed conversation is open again (reopened by an agent or
-- by the customer's message): back in the team's open list, out of its
-- resolved list, its resolve and snooze times and timers gone (and the mark
-- of the bot's idle resolve: ingest.lua reopens only such a one to the bot).
local function back_to_open(conv, team, now)
  redis.call('ZADD', p .. 'team:' .. team .. ':open', now, conv)
  redis.call('ZREM', p .. 'team:' .. team .. ':resolved', conv)
  redis.call('HDEL', conv_key(conv), 'resolved_at', 'snoozed_until', 'bot_idle')
  clear_timers(conv)
end

-- The customer wrote again within the reopen window (`open_key`, their open
-- pointer on its channel, kept it findable): the pointer loses its deadline
-- and the conversation is open again.
local function customer_reopens(conv, team, open_key, now)
  if redis.call('GET', open_key) == conv then redis.call('PERSIST', open_key) end
  back_to_open(conv, team, now)
end

-- Resolves the conversation (`h`: its assignee, team, customer_id, channel):
-- out of routing, into the team's resolved list, and within the reopen window
-- the customer's next message comes back to it (the open pointer expires
-- then, and a later message opens a new conversation). Answers the seq.
local function resolve_conversation(conv, h, actor, now, extra)
  local assignee, team = h.assignee or '', h.team
  local open_key = p .. 'cust:' .. h.customer_id .. ':open:' .. h.channel
  local held = redis.call('GET', open_key) == conv
  leave_routing(conv, assignee, team, now)
  local seq = change_status(conv, 'resolved', actor, now, extra)
  redis.call('ZADD', p .. 'team:' .. team .. ':resolved', now, conv)
  redis.call('ZREMRANGEBYRANK', p .. 'team:' .. team .. ':resolved', 0, -10001)
  local window = setting('reopen_ms')
  if held and window > 0 then redis.call('SET', open_key, conv, 'PX', window) end
  return seq
end

-- The caller's routing decision for a conversation not routed yet, from
-- ARGV[i] on: team, priority, vip, sla_first_due, sla_first_warn,
-- sla_resolve_due, sla_resolve_warn (ms, 0 = none), closed_text (the notice
-- outside business hours, '' when open), sticky ('1': a returning customer's
-- previous agent first).
-- `args`: where to read them (ARGV unless given; ingest passes one message's).
local function decision_args(i, args)
  local a = args or ARGV
  return { team = a[i], priority = a[i + 1], vip = a[i + 2],
    first_due = tonumber(a[i + 3]), first_warn = tonumber(a[i + 4]),
    resolve_due = tonumber(a[i + 5]), resolve_warn = tonumber(a[i + 6]),
    closed_text = a[i + 7], sticky = a[i + 8] == '1' }
end

-- Applies a decision to a queued conversation: team, priority, VIP, SLA
-- timers and the closed-hours notice; then the returning customer's agent, or
-- the queue, drained at once. Answers the status and assignee after it.
-- `fresh`: the conversation was created by this script call and has not
-- waited yet ({ team, priority, customer_id } as written), so nothing needs
-- reading back.
local function apply_route(conv, now, d, fresh)
  local vkey = conv_key(conv)
  local h = fresh and { fresh.team, fresh.priority, fresh.customer_id } or
    redis.call('HMGET', vkey, 'team', 'priority', 'customer_id')
  local old_team, old_priority = h[1], h[2] or 'normal'
  local team, priority = d.team, d.priority
  if team ~= '' and team ~= old_team then
    redis.call('ZREM', p .. 'queue:' .. old_team, conv)
    redis.call('ZREM', p .. 'team:' .. old_team .. ':open', conv)
    redis.call('HSET', vkey, 'team', team)
    redis.call('ZADD', p .. 'team:' .. team .. ':open', now, conv)
  else
    team = old_team
  end
  if priority == '' then priority = old_priority end
  if fresh then
    redis.call('HSET', vkey, 'routed', '1', 'vip', d.vip, 'priority', priority, 'queued_at', now)
  else
    redis.call('HSET', vkey, 'routed', '1', 'vip', d.vip, 'priority', priority)
    stop_awaiting_routing(conv)
  end
  if team ~= old_team or priority ~= old_priority then
    local seq = redis.call('HINCRBY', vkey, 'seq', 1)
    emit(conv, seq, 'routed', { team = team, from_team = old_team, priority = priority, vip = d.vip == '1', at = now })
  end
  arm_sla(conv, d)
  if d.closed_text ~= '' and not redis.call('HGET', vkey, 'closed_notice_at') then
    redis.call('HSET', vkey, 'closed_notice_at', now)
    append_outbound(conv, 'system', '', '', '', d.closed_text, now, true, nil)
  end
  if d.sticky then
    -- The customer's previous agent, if available on the team this goes to
    -- (a rule may route it elsewhere: the VIP desk; the agent may have moved):
    -- the team's index of online agents with room (index_agent) tells.
    local last = redis.call('HGET', p .. 'cust:' .. h[3], 'last_agent')
    if last and redis.call('ZSCORE', p .. 'team:' .. team .. ':avail', last) and agent_alive(last, now) then
      assign_to(conv, last, now, 'system', 'returning_customer', nil)
      return 'assigned', last
    end
  end
  if fresh then
    redis.call('ZADD', p .. 'queue:' .. team, score_of(priority, d.vip, nil, now), conv)
  else
    enqueue(conv, now)
  end
  -- Nobody taken from the queue: this conversation is still waiting.
  if drain_team(team, now, 10) == 0 then return 'queued', '' end
  local after = redis.call('HMGET', vkey, 'status', 'assignee')
  return after[1], after[2] or ''
end
