-- Messenger's read receipt names no message, only a time: every message the
-- page sent up to the watermark was read. Answers the customer's newest
-- conversation on the channel and the seqs of its outbound messages whose
-- send began by then (delivery.lua keeps sent_at; older records have only
-- `at`) and that are sent or delivered. The caller marks each one read
-- through delivery.lua: statuses move forwards only, campaigns count.
-- ARGV: prefix, channel, customer_external_id, watermark_ms.
-- Answers { conv, seq, ... } or {} when the customer has no conversation there.
local channel, ext, watermark = ARGV[2], ARGV[3], tonumber(ARGV[4])

local cust = redis.call('GET', p .. 'ident:' .. channel .. ':' .. ext)
if not cust then return {} end
-- Their newest conversation on the channel: a resolved one too (the agent's
-- last answer is often read after the agent resolved it).
local conv
local recent = redis.call('LRANGE', p .. 'cust:' .. cust .. ':conversations', -20, -1)
for i = #recent, 1, -1 do
  if redis.call('HGET', conv_key(recent[i]), 'channel') == channel then
    conv = recent[i]
    break
  end
end
if not conv then return {} end

local out = { conv }
local records = redis.call('HGETALL', conv_key(conv) .. ':delivery')
for i = 1, #records, 2 do
  local record = cjson.decode(records[i + 1])
  local began = record.sent_at or record.at
  if (record.status == 'sent' or record.status == 'delivered') and began and began <= watermark then
    out[#out + 1] = records[i]
  end
end
return out
