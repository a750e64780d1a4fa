-- Once per Redis (routing_service::sync at start-up): the conversations with
-- the bot from before the idle timer existed (their customers wrote before
-- ingest kept timers:bot_idle) are put on it by their last customer message.
-- Only open conversations are read: the teams' open sets.
-- ARGV: prefix, now_ms. Answers how many were put on the timer (-1: done before).
local now = tonumber(ARGV[2])
local bkey = p .. 'timers:bot_idle'
if not redis.call('SET', bkey .. ':seeded', '1', 'NX') then return -1 end
local seeded = 0
for _, team in ipairs(redis.call('HKEYS', p .. 'team_strategy')) do
  for _, conv in ipairs(redis.call('ZRANGE', p .. 'team:' .. team .. ':open', 0, -1)) do
    local h = redis.call('HMGET', conv_key(conv), 'status', 'last_customer_message_at', 'created_at')
    if h[1] == 'bot' then seeded = seeded + redis.call('ZADD', bkey, 'NX', tonumber(h[2] or h[3]) or now, conv) end
  end
end
return seeded
