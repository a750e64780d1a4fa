-- Renews this consumer's hold on its in-flight outbox entries (XCLAIM to itself
-- resets their idle time, so no other instance reclaims them) and returns the
-- ids it still owns; an id owned by another consumer now is left alone.
-- ARGV: prefix, outbox key, group, consumer, entry id...
local key, group, me = ARGV[2], ARGV[3], ARGV[4]
local owned = {}
for i = 5, #ARGV do
  if renew_hold(key, group, me, ARGV[i]) then owned[#owned + 1] = ARGV[i] end
end
return owned
