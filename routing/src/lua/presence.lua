-- An agent's presence, from its console sessions. ARGV: prefix, op, agent,
-- session, now_ms, ttl_ms, availability ('' | 'online' | 'away').
--   beat:  a session is alive for ttl_ms more (hello, ping, presence frame)
--   close: a session ended; it counts for ttl_ms more (the grace for a reload)
--   end:   the agent signed out (or was signed out), or its console fell silent
--          (unheard for a TTL already): the session counts no more
--   set:   the agent chose online or away (remembered across reconnects)
--   drain: nothing changes; only the drain below (the caller's next batch)
-- Coming online (or being online with room) drains the agent's queues at once,
-- at most 200 conversations per call (one script must stay short: Redis runs
-- nothing else meanwhile); the caller calls again while a batch was full.
-- Answers { status_before, status_after, assigned_count }.
local op, a, session, now, ttl, availability = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
if redis.call('EXISTS', agent_key(a)) == 0 then return { 'not_found' } end
local before = agent_status(a, now)
local skey = p .. 'presence:' .. a
if op == 'beat' or op == 'close' then
  redis.call('ZADD', skey, now + ttl, session)
  redis.call('PEXPIRE', skey, ttl * 2 + 60000)
elseif op == 'end' then
  redis.call('ZREM', skey, session)
end
if availability == 'online' or availability == 'away' then
  redis.call('HSET', agent_key(a), 'availability', availability)
end
redis.call('ZREMRANGEBYSCORE', skey, '-inf', now)
local last = redis.call('ZRANGE', skey, -1, -1, 'WITHSCORES')
if last[1] then redis.call('ZADD', p .. 'presence', last[2], a) else redis.call('ZREM', p .. 'presence', a) end
local after = agent_status(a, now)
local can_take = index_agent(a, now)
if before ~= after then publish_presence(a, now) end
local n = 0
if can_take then n = drain_agent(a, now, 200) end
return { before, after, n }
