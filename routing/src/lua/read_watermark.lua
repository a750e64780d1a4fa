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
-- Their newest conversation on the channel with this person (a merged file
-- may hold two people's ids on one page): a resolved one too (the agent's
-- last answer is often read after the agent resolved it).
local conv
local recent = redis.call('LRANGE', p .. 'cust:' .. cust .. ':conversations', -20, -1)
for i = #recent, 1, -1 do
  local h = redis.call('HMGET', conv_key(recent[i]), 'channel', 'recipient')
  if h[1] == channel and (h[2] == ext or not h[2] or h[2] == '') then
    conv = recent[i]
    break
  end
end
if not conv then return {} end

-- The records of the conversation's newest log entries only: a customer's
-- app sends a watermark whenever they look, so older replies were marked by
-- an earlier one, and a long conversation's whole record (thousands of
-- replies) held Redis for milliseconds at every look.
local NEWEST = 300
local out = { conv }
local last = tonumber(redis.call('HGET', conv_key(conv), 'seq') or '0')
local seqs = {}
for s = last, math.max(1, last - NEWEST + 1), -1 do seqs[#seqs + 1] = tostring(s) end
if #seqs == 0 then return out end
local records = redis.call('HMGET', conv_key(conv) .. ':delivery', unpack(seqs))
for i, raw in ipairs(records) do
  local record = raw and cjson.decode(raw)
  local began = record and (record.sent_at or record.at)
  if began and (record.status == 'sent' or record.status == 'delivered') and began <= watermark then
    out[#out + 1] = seqs[i]
  end
end
return out
