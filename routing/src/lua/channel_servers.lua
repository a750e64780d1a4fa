-- Which channels a live gateway sends on, and the outbox entries of a
-- channel none sends on any more. Gateways of one Redis differ in
-- configuration during a rolling deploy (and after an admin removed a
-- channel from some), so only what they say here tells whether a reply
-- can go. ARGV: prefix, op, then per op:
--   beat    ttl_ms, grace_ms, channels...: the caller sends on these
--           channels for ttl_ms more (it beats again well before). Answers
--           the channels a gateway once served that have had none for
--           grace_ms: their outboxes may hold entries nobody will send.
--   strand  channel, consumer, grace_ms, count: while the channel has still
--           had no server for grace_ms, up to `count` of its outbox entries
--           not done yet, taken by `consumer` (claimed, or read for the
--           first time), for the caller to mark failed (delivery.lua
--           acknowledges each): { id, m, id, m, ... }. With none left the
--           channel is forgotten, until a gateway serves it. Nothing is
--           taken while a consumer of the outbox other than `consumer` was
--           seen within grace_ms: a worker of a gateway that does not beat
--           (an older version) still sends on it.
-- Times are Redis's (every gateway's clock alike). A crashed gateway's
-- channels count as served until its last beat runs out.
local op, now, until_key = ARGV[2], redis_now_ms(), served_until_key()

if op == 'beat' then
  local ttl, grace = tonumber(ARGV[3]), tonumber(ARGV[4])
  for i = 5, #ARGV do
    local was = tonumber(redis.call('HGET', until_key, ARGV[i]) or '0') or 0
    redis.call('HSET', until_key, ARGV[i], math.max(was, now + ttl))
  end
  local unserved = {}
  local all = redis.call('HGETALL', until_key)
  for i = 1, #all, 2 do
    if (tonumber(all[i + 1]) or 0) + grace <= now then unserved[#unserved + 1] = all[i] end
  end
  return unserved
end

-- Whether a consumer of the group but `me` read or claimed within `grace` ms.
local function consumer_seen(key, group, me, grace)
  for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', key, group)) do
    local name, idle
    for j = 1, #c, 2 do
      if c[j] == 'name' then name = c[j + 1] elseif c[j] == 'idle' then idle = c[j + 1] end
    end
    if name ~= me and idle < grace then return true end
  end
  return false
end

if op == 'strand' then
  local channel, consumer, grace, count = ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
  local served_until = tonumber(redis.call('HGET', until_key, channel) or '')
  if not served_until or served_until + grace > now then return {} end
  local key, group = p .. 'outbox:' .. channel, 'senders'
  local has_group = false
  if redis.call('EXISTS', key) == 1 then
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
      for j = 1, #g, 2 do
        if g[j] == 'name' and g[j + 1] == group then has_group = true end
      end
    end
    -- Never read by a worker (the channel's gateways are gone, or never ran
    -- one): the group starts at the stream's beginning, as a worker's would.
    if not has_group then redis.call('XGROUP', 'CREATE', key, group, '0') end
    if has_group and consumer_seen(key, group, consumer, grace) then return {} end
  else
    redis.call('HDEL', until_key, channel)
    return {}
  end
  local out = {}
  local function take(entries)
    for _, e in ipairs(entries or {}) do
      -- A deleted entry (an erased customer's) comes without fields.
      if type(e) == 'table' and type(e[2]) == 'table' then
        local m = ''
        for j = 1, #e[2], 2 do
          if e[2][j] == 'm' then m = e[2][j + 1] end
        end
        out[#out + 1] = e[1]
        out[#out + 1] = m
      end
    end
  end
  -- Held by a gateway that went (nobody renewed them for the grace): idle
  -- that long, so two gateways sweeping at once never take the same one.
  local held = {}
  for _, e in ipairs(redis.call('XPENDING', key, group, 'IDLE', grace, '-', '+', count)) do held[#held + 1] = e[1] end
  if #held > 0 then take(redis.call('XCLAIM', key, group, consumer, grace, unpack(held))) end
  local room = count - #out / 2
  if room > 0 then
    local read = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', room, 'STREAMS', key, '>')
    if read then take(read[1][2]) end
  end
  if #out == 0 and redis.call('XPENDING', key, group)[1] == 0 then redis.call('HDEL', until_key, channel) end
  return out
end

return { 'unknown_op' }
