-- Housekeeping of one outbox: drops acknowledged entries older than the
-- retention edge (never one still pending or not yet read by every group),
-- and forgets consumers of instances long gone (nothing pending, idle for
-- longer than max_consumer_idle_ms), whose names would otherwise pile up
-- with every restart.
-- ARGV: prefix, outbox key, edge id ("<ms>-0"), group, max_consumer_idle_ms.
local key, edge, group, max_idle = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
if redis.call('EXISTS', key) == 0 then return 0 end

local function fields(flat)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

local safe = edge
for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
  local info = fields(g)
  if info['last-delivered-id'] and stream_id_before(info['last-delivered-id'], safe) then safe = info['last-delivered-id'] end
  local summary = redis.call('XPENDING', key, info.name)
  if summary[2] and stream_id_before(summary[2], safe) then safe = summary[2] end
end

local groups = redis.call('XINFO', 'GROUPS', key)
for _, g in ipairs(groups) do
  if fields(g).name == group then
    for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', key, group)) do
      local info = fields(c)
      if tonumber(info.pending) == 0 and tonumber(info.idle) > max_idle then
        redis.call('XGROUP', 'DELCONSUMER', key, group, info.name)
      end
    end
  end
end
return redis.call('XTRIM', key, 'MINID', '~', safe)
