-- A provider's rate limit answer for the whole account (WhatsApp 130429,
-- Telegram's 429 taken as the channel's, Meta 613/4): no gateway instance
-- sends on the channel before it ends. Moves the channel's pace
-- (<outbox>:pace, take_pace in the prelude, which every send's turn takes)
-- on to the end of the pause, with the burst full from then, as the local
-- bucket's pause_until; never back, should a longer pause hold it already.
-- ARGV: prefix, account pace key, pause_ms, burst tolerance_ms.
pace_from_answer(ARGV[2], tonumber(ARGV[3]) + tonumber(ARGV[4]))
return 'OK'
