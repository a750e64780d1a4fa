-- Whether an outbox entry may be sent now, renewing this consumer's hold on it
-- (as outbox_touch.lua). Entries of one chat go one at a time in stream order
-- across every gateway instance: <outbox>:chat:<chat> lists the chat's entries
-- not done yet (queue_outbound in the prelude; delivery.lua takes each off
-- with its outcome), and an entry may go when it heads the list, or when it
-- is older than the head (queued before there were such lists).
-- A head that is done or gone (acknowledged by a gateway of an older version,
-- deleted) is dropped from the list. A head that is this consumer's too
-- (claimed after the entry asking, or let go of) or idle for claim_idle_ms
-- (its instance gone) is claimed for this consumer and answered, to be sent first.
-- An entry that may go takes its chat's next send slot (take_pace in the
-- prelude), then the channel's slot from then on (the provider's limit for
-- the whole account: Telegram 30/s, WhatsApp 80/s, and a pause the provider
-- asked of the whole account, outbox_pause.lua): both hold across
-- instances, in this same call. A split text's later parts ask again, each
-- before it goes.
-- ARGV: prefix, outbox key, group, consumer, chat order key, claim_idle_ms,
-- entry id ('': no entry of ours, only whether we may take the chat's head),
-- chat pace key ('': the chat is not paced), pace interval_ms, burst tolerance_ms,
-- account pace key, its interval_ms (0: no account limit, only pauses), its tolerance_ms.
-- Answers { 'go', wait_ms } (send once wait_ms have passed: the slot is ours) |
-- { 'lost' } (the entry is another consumer's now) |
-- { 'wait' } (an earlier entry of the chat is with another instance) |
-- { 'none' } (for '': nothing to take) | { 'first', [[id, fields]], attempts }.
local key, group, me, order, claim_idle, entry = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7]
local pace_key, interval, tolerance = ARGV[8] or '', tonumber(ARGV[9] or '0'), tonumber(ARGV[10] or '0')
local account_key, account_interval, account_tolerance = ARGV[11] or '', tonumber(ARGV[12] or '0'), tonumber(ARGV[13] or '0')
local function go()
  local wait = take_pace(pace_key, interval, tolerance)
  return { 'go', take_pace(account_key, account_interval, account_tolerance, wait) }
end
if entry ~= '' and not renew_hold(key, group, me, entry) then return { 'lost' } end
for _ = 1, 100 do
  local head = redis.call('LINDEX', order, 0)
  if not head then
    if entry == '' then return { 'none' } end
    return go()
  end
  if head == entry or (entry ~= '' and stream_id_before(entry, head)) then return go() end
  local pending = redis.call('XPENDING', key, group, head, head, 1)[1]
  if not pending then
    -- Ahead of our pending entry, so read: done. (Asked for the head alone,
    -- it may not have been read yet.)
    if entry == '' then return { 'none' } end
    redis.call('LPOP', order)
  elseif pending[2] ~= me and pending[3] < claim_idle then
    return { 'wait' }
  else
    local claimed = redis.call('XCLAIM', key, group, me, 0, head)
    if claimed[1] then return { 'first', claimed, redis.call('HGET', key .. ':attempts', head) or '' } end
    redis.call('LPOP', order)  -- deleted from the stream (XCLAIM dropped it from the pending list)
  end
end
return { 'wait' }
