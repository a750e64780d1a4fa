-- wrk script: replays the pre-signed webhook requests of bench/ingest/webhook_bodies.mjs.
-- Each wrk thread sends its own share of the lines, so no request is sent twice
-- unless the file runs out (then it starts over; reported as wrapped=N).
--   BENCH_WEBHOOK_FILE    the generated file
--   BENCH_WEBHOOK_PATH    e.g. /webhooks/telegram/tg
--   BENCH_WEBHOOK_HEADER  e.g. X-Telegram-Bot-Api-Secret-Token
--   BENCH_WRK_THREADS     wrk -t (default 2)
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(os.getenv("BENCH_WEBHOOK_FILE"), "BENCH_WEBHOOK_FILE")
  local path = assert(os.getenv("BENCH_WEBHOOK_PATH"), "BENCH_WEBHOOK_PATH")
  local header = assert(os.getenv("BENCH_WEBHOOK_HEADER"), "BENCH_WEBHOOK_HEADER")
  local nthreads = tonumber(os.getenv("BENCH_WRK_THREADS") or "2")
  requests = {}
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == tid then
      local tab = line:find("\t", 1, true)
      requests[#requests + 1] = wrk.format("POST", path,
        { ["Content-Type"] = "application/json", [header] = line:sub(1, tab - 1) }, line:sub(tab + 1))
    end
    i = i + 1
  end
  next_index = 0
  wrapped = 0
end

request = function()
  next_index = next_index + 1
  if next_index > #requests then
    next_index = 1
    wrapped = wrapped + 1
  end
  return requests[next_index]
end

done = function(summary, latency, requests)
  local wraps = 0
  for _, t in ipairs(threads) do wraps = wraps + (t:get("wrapped") or 0) end
  io.write(string.format("RESULT requests=%d duration_us=%d errors_status=%d p50_us=%d p99_us=%d wrapped=%d\n",
    summary.requests, summary.duration, summary.errors.status, latency:percentile(50), latency:percentile(99), wraps))
end
